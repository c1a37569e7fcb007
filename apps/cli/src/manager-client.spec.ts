import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bearerToken, connectManager } from "./manager-client";

const dir = mkdtempSync(join(tmpdir(), "kne-cli-token-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the bearer token of --server", () => {
  it("comes from --auth-token-file (trimmed), else $KNE_AUTH_TOKEN, else none", () => {
    const file = join(dir, "token");
    writeFileSync(file, "s3cret-token\n");
    expect(bearerToken({ "auth-token-file": file }, { KNE_AUTH_TOKEN: "from-env" })).toBe("s3cret-token");
    expect(bearerToken({}, { KNE_AUTH_TOKEN: " from-env " })).toBe("from-env");
    expect(bearerToken({}, {})).toBeUndefined();
  });

  it("refuses a missing or empty file and a token with spaces, naming the flag or variable", () => {
    const empty = join(dir, "empty");
    writeFileSync(empty, "\n");
    expect(() => bearerToken({ "auth-token-file": join(dir, "nope") }, {})).toThrow(/--auth-token-file .*nope: cannot read it \(ENOENT\)/);
    expect(() => bearerToken({ "auth-token-file": empty }, {})).toThrow(/holds no token/);
    expect(() => bearerToken({}, { KNE_AUTH_TOKEN: "two words" })).toThrow(/\$KNE_AUTH_TOKEN: the token must be one line without spaces/);
  });

  it("is refused without --server: the in-process manager asks for none", async () => {
    const saved = process.env["KNE_SERVER"];
    delete process.env["KNE_SERVER"];
    try {
      await expect(connectManager({ "auth-token-file": join(dir, "token") })).rejects.toThrow(/--auth-token-file is the token of a --server/);
    } finally {
      if (saved !== undefined) process.env["KNE_SERVER"] = saved;
    }
  });
});
