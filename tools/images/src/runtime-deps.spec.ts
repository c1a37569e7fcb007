import { existsSync } from "node:fs";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bareImportsOfBundle, copyRuntimePackages, packageOfSpecifier, readRuntimeDeps } from "./runtime-deps.ts";
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

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function pkg(dir: string, name: string, version: string, extra: Record<string, unknown> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name, version, ...extra }));
  await writeFile(join(dir, "index.js"), "export {};\n");
  await writeFile(join(dir, "index.d.ts"), "export {};\n");
  await writeFile(join(dir, "README.md"), "docs\n");
}

/** A workspace: app `a` whose bundle imports `top`; top needs `dep` 2.x, nested because the root has dep 1.x. */
async function workspace(): Promise<{ ws: string; app: string }> {
  const ws = await mkdtemp(join(tmpdir(), "kne-ws-"));
  dirs.push(ws);
  const app = join(ws, "apps", "a");
  await mkdir(join(app, "dist"), { recursive: true });
  await writeFile(join(app, "dist", "main.mjs"), 'import { x } from "top/sub";\nimport fs from "node:fs";\n');
  await pkg(join(ws, "node_modules", "top"), "top", "1.2.3", { dependencies: { dep: "^2" }, optionalDependencies: { "not-here": "1" } });
  await pkg(join(ws, "node_modules", "top", "node_modules", "dep"), "dep", "2.0.0");
  await pkg(join(ws, "node_modules", "dep"), "dep", "1.0.0");
  await pkg(join(ws, "node_modules", "unused"), "unused", "1.0.0");
  return { ws, app };
}

describe("runtime packages of an app", () => {
  it("reads the bundle's imports when the build wrote no list, and copies the closure in its nesting", async () => {
    const { ws, app } = await workspace();
    const deps = readRuntimeDeps(app, ws);
    expect(deps).toEqual({ origin: "bundle imports", dependencies: { top: "1.2.3" } });
    const target = join(ws, "out");
    const copied = await copyRuntimePackages(deps, app, ws, target);
    expect(copied).toEqual(["dep@2.0.0", "top@1.2.3"]);
    expect(JSON.parse(await readFile(join(target, "node_modules/top/node_modules/dep/package.json"), "utf8")).version).toBe("2.0.0");
    expect(existsSync(join(target, "node_modules/dep"))).toBe(false);
    expect(existsSync(join(target, "node_modules/unused"))).toBe(false);
    expect(existsSync(join(target, "node_modules/top/index.js"))).toBe(true);
    expect(existsSync(join(target, "node_modules/top/index.d.ts"))).toBe(false);
    expect(existsSync(join(target, "node_modules/top/README.md"))).toBe(false);
  });

  it("takes dist/runtime-deps.json when present and refuses a version the workspace does not have", async () => {
    const { ws, app } = await workspace();
    await writeFile(join(app, "dist", "runtime-deps.json"), JSON.stringify({ dependencies: { top: "9.9.9" } }));
    const deps = readRuntimeDeps(app, ws);
    expect(deps.origin).toBe("runtime-deps.json");
    await expect(copyRuntimePackages(deps, app, ws, join(ws, "out"))).rejects.toThrow("runtime-deps.json asks for top@9.9.9, the workspace has 1.2.3");
    await writeFile(join(app, "dist", "runtime-deps.json"), JSON.stringify({ dependencies: { top: "^1" } }));
    expect(() => readRuntimeDeps(app, ws)).toThrow('apps/a/dist/runtime-deps.json: dependencies.top: expected an exact version, got "^1"');
  });
});
