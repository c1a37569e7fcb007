import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlagError } from "@kne/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topologyManagerCommand } from "./app";
import { defaultLimits, loadManagerOptions, managerEnv, parseManagerFlags, topologyManagerHelp } from "./manager-options";
import { runTopologyManager } from "./run";

const cmd = topologyManagerCommand;
const parse = (args: string[], env: Record<string, string> = {}) => parseManagerFlags(args, cmd, env);
const manager = (args: string[], env: Record<string, string> = {}) => {
  const f = parse(args, env);
  if (f.help) throw new Error("unexpected --help");
  return f.manager;
};

const pemCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const pemKey = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kne-tm-flags-"));
  await writeFile(file("cert.pem"), pemCert);
  await writeFile(file("key.pem"), pemKey);
  await writeFile(file("ca.pem"), pemCert);
  await writeFile(file("token"), "s3cret\n");
  await writeFile(file("empty-token"), "\n  \n");
  await writeFile(file("two-words"), "a b\n");
  await writeFile(file("not-pem"), "hello\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("parseManagerFlags", () => {
  it("keeps the common server flags and defaults to no TLS, no token", () => {
    const f = parse(["--port", "0", "--host", "::", "--log-level", "debug"]);
    expect(f).toMatchObject({ help: false, server: { help: false, port: 0, host: "::", logLevel: "debug" } });
    expect(f.help === false && f.manager.tls === undefined && f.manager.authTokenFile === undefined).toBe(true);
    expect(parse(["-h", "--tls-cert", "x"])).toEqual({ help: true });
    expect(() => parse(["--port", "99999"])).toThrow(/--port must be a number/);
    expect(() => parse(["--tls-certificate", "x"])).toThrow(FlagError);
  });

  it("--tls-cert and --tls-key go together", () => {
    expect(manager(["--tls-cert", "c.pem", "--tls-key", "k.pem"]).tls).toEqual({ certFile: expect.stringMatching(/\/c\.pem$/), keyFile: expect.stringMatching(/\/k\.pem$/) });
    expect(() => parse(["--tls-cert", "c.pem"])).toThrow("--tls-cert needs --tls-key too");
    expect(() => parse(["--tls-key", "k.pem"])).toThrow("--tls-key needs --tls-cert too");
    expect(() => parse(["--tls-cert", "", "--tls-key", "k.pem"])).toThrow("--tls-cert must not be empty");
  });

  it("--tls-client-ca needs TLS", () => {
    expect(() => parse(["--tls-client-ca", "ca.pem"])).toThrow(/--tls-client-ca \(mTLS\) needs --tls-cert and --tls-key/);
    expect(manager(["--tls-cert", "/c", "--tls-key", "/k", "--tls-client-ca", "/ca"]).tls).toEqual({ certFile: "/c", keyFile: "/k", clientCaFile: "/ca" });
  });

  it("--auth-token-file and --state-dir must not be empty and become absolute", () => {
    expect(() => parse(["--auth-token-file", ""])).toThrow("--auth-token-file must not be empty");
    expect(() => parse(["--state-dir", " "])).toThrow("--state-dir must not be empty");
    expect(manager(["--state-dir", "rel/dir"]).stateDir).toBe(join(process.cwd(), "rel/dir"));
    expect(manager(["--auth-token-file", "/t"]).authTokenFile).toBe("/t");
  });

  it("reads each flag from its environment variable; the flag wins", () => {
    const env = {
      [managerEnv.tlsCert]: "/env/c",
      [managerEnv.tlsKey]: "/env/k",
      [managerEnv.tlsClientCa]: "/env/ca",
      [managerEnv.authTokenFile]: "/env/t",
      [managerEnv.stateDir]: "/env/state",
    };
    expect(manager([], env)).toMatchObject({ tls: { certFile: "/env/c", keyFile: "/env/k", clientCaFile: "/env/ca" }, authTokenFile: "/env/t", stateDir: "/env/state" });
    expect(manager(["--state-dir", "/flag"], env).stateDir).toBe("/flag");
    expect(() => parse([], { [managerEnv.tlsKey]: "/k" })).toThrow("$KNE_TLS_KEY needs --tls-cert too");
    expect(() => parse([], { [managerEnv.tlsClientCa]: "/ca" })).toThrow("$KNE_TLS_CLIENT_CA (mTLS) needs");
    // An empty variable is as good as unset.
    expect(manager([], { [managerEnv.stateDir]: "" }).stateDir).toBeUndefined();
  });

  it("takes metrics, OTLP and limit flags (or their variables) and rejects bad values naming the flag", () => {
    expect(manager([]).runtime).toEqual({ ...defaultLimits });
    expect(manager(["--metrics-addr", "127.0.0.1:0", "--otlp-endpoint", "http://127.0.0.1:4318", "--max-nodes", "5", "--max-links", "7", "--max-message-bytes", "1024"]).runtime).toEqual({
      metricsAddr: "127.0.0.1:0",
      otlpEndpoint: "http://127.0.0.1:4318",
      maxNodes: 5,
      maxLinks: 7,
      maxMessageBytes: 1024,
    });
    expect(manager([], { [managerEnv.otlpEndpoint]: "http://collector:4318", [managerEnv.maxNodes]: "3" }).runtime).toMatchObject({ otlpEndpoint: "http://collector:4318", maxNodes: 3 });
    expect(() => parse(["--max-nodes", "0"])).toThrow('--max-nodes must be a whole number of at least 1, got "0"');
    expect(() => parse([], { [managerEnv.maxLinks]: "many" })).toThrow('$KNE_MAX_LINKS must be a whole number of at least 1, got "many"');
    expect(() => parse(["--metrics-addr", "9464"])).toThrow(/--metrics-addr must be host:port/);
    expect(() => parse(["--otlp-endpoint", "collector:4318"])).toThrow(/--otlp-endpoint must be an http\(s\) URL/);
  });
});

describe("loadManagerOptions", () => {
  it("reads the PEM files and turns --tls-client-ca into required client certificates", async () => {
    expect(await loadManagerOptions({ tls: { certFile: file("cert.pem"), keyFile: file("key.pem") } })).toEqual({ tls: { cert: pemCert, key: pemKey } });
    expect(await loadManagerOptions({ tls: { certFile: file("cert.pem"), keyFile: file("key.pem"), clientCaFile: file("ca.pem") } })).toEqual({
      tls: { cert: pemCert, key: pemKey, ca: pemCert, requestClientCert: true },
    });
  });

  it("names the flag of a missing or wrong file", async () => {
    await expect(loadManagerOptions({ tls: { certFile: file("nope.pem"), keyFile: file("key.pem") } })).rejects.toThrow(`--tls-cert ${file("nope.pem")}: cannot read it (no such file)`);
    await expect(loadManagerOptions({ tls: { certFile: file("cert.pem"), keyFile: file("not-pem") } })).rejects.toThrow("--tls-key");
    await expect(loadManagerOptions({ tls: { certFile: file("key.pem"), keyFile: file("key.pem") } })).rejects.toThrow("not a PEM certificate");
    await expect(loadManagerOptions({ tls: { certFile: file("cert.pem"), keyFile: file("key.pem"), clientCaFile: dir } })).rejects.toThrow("--tls-client-ca");
  });

  it("reads one token, trimmed; an empty or multi-word file is refused", async () => {
    expect(await loadManagerOptions({ authTokenFile: file("token"), stateDir: "/s" })).toEqual({ authToken: "s3cret", stateDir: "/s" });
    await expect(loadManagerOptions({ authTokenFile: file("empty-token") })).rejects.toThrow("the file holds no token");
    await expect(loadManagerOptions({ authTokenFile: file("two-words") })).rejects.toThrow("one line without spaces");
    await expect(loadManagerOptions({ authTokenFile: file("missing") })).rejects.toThrow("--auth-token-file");
  });

  it("requires --kubecfg-dir to be a directory", async () => {
    const choice = (kubecfgDir: string) => ({ backendChoice: { kind: "kubernetes" as const, operatorMode: "auto" as const, kubecfgDir } });
    expect(await loadManagerOptions(choice(dir))).toEqual(choice(dir));
    await expect(loadManagerOptions(choice(file("missing-dir")))).rejects.toThrow(`--kubecfg-dir ${file("missing-dir")}: no such directory`);
    await expect(loadManagerOptions(choice(file("token")))).rejects.toThrow("not a directory");
  });
});

describe("runTopologyManager", () => {
  const run = async (argv: string[]) => {
    let stdout = "";
    let stderr = "";
    let code: number | undefined;
    const server = await runTopologyManager({ argv, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), exit: (c) => (code = c) }, {});
    return { server, stdout, stderr, code };
  };

  it("documents every flag and its environment variable in --help", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    for (const text of ["--tls-cert", "--tls-key", "--tls-client-ca", "--auth-token-file", "--state-dir", "--port", ...Object.values(managerEnv).map((v) => `$${v}`)]) {
      expect(r.stdout).toContain(text);
    }
    expect(r.stdout).toBe(topologyManagerHelp(cmd));
  });

  it("exits 2 with the reason on a bad flag or an unreadable file", async () => {
    const r = await run(["--tls-cert", file("cert.pem")]);
    expect({ code: r.code, server: r.server }).toEqual({ code: 2, server: undefined });
    expect(r.stderr).toContain("topology-manager: --tls-cert needs --tls-key too");
    const t = await run(["--auth-token-file", file("empty-token")]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain("the file holds no token");
  });
});
