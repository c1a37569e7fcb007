import { describe, expect, it } from "vitest";
import { runKne } from "../testing";

describe("kne serve", () => {
  it("passes its flags to the topology-manager, which rejects a bad command line with exit 2", async () => {
    const res = await runKne(["serve", "--tls-key", "/nonexistent/key.pem"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("topology-manager: --tls-key needs --tls-cert too");
  }, 60_000);

  it("explains an unreadable token file before it serves", async () => {
    const res = await runKne(["serve", "--port", "0", "--auth-token-file", "/nonexistent/token"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--auth-token-file /nonexistent/token: cannot read it (no such file)");
  }, 60_000);
});
