import { describe, expect, it } from "vitest";
import { bareImportsOfBundle, packageOfSpecifier } from "./runtime-deps.ts";

describe("runtime dependencies of a bundle", () => {
  it("finds static, dynamic, require and createRequire imports, without builtins or relative paths", () => {
    const code = [
      'import { a } from "@bufbuild/protobuf/wkt";',
      'import pino from "pino";',
      'import "side-effect";',
      'const m = await import("yaml");',
      'const fs = require("node:fs");',
      'const path = require("path");',
      'const koffi = createRequire(import.meta.url)("koffi");',
      'import x from "./local.mjs";',
    ].join("\n");
    expect(bareImportsOfBundle(code)).toEqual(["@bufbuild/protobuf", "koffi", "pino", "side-effect", "yaml"]);
  });

  it("maps specifiers to package names", () => {
    expect(packageOfSpecifier("@connectrpc/connect/protocol-grpc")).toBe("@connectrpc/connect");
    expect(packageOfSpecifier("yaml/util")).toBe("yaml");
    expect(packageOfSpecifier("node:http2")).toBeUndefined();
    expect(packageOfSpecifier("child_process")).toBeUndefined();
  });
});
