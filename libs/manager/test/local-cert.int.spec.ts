// Node certificates on the local backend, for real: a HOST node whose topology sets
// config.cert gets its certificate before its command starts, and that command (a TLS
// server inside the namespace) serves it to a client on this host that trusts exactly that
// certificate and checks the name; GenerateCertificate (`kne topology cert`) makes a new
// one that parses with the requested common name, SANs and key size, and whose key
// matches; a vendor without certificates answers UNIMPLEMENTED naming itself.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { managerv1, topo } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, deleteQuietly, kernelLeftovers, processesUsing, startHarness, waitFor } from "./helpers.ts";

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log("local-cert.int.spec: skipped: needs root (network namespaces, management network)");

/** The node's TLS server: the certificate and key from its node directory, as created for it. */
const tlsServer = [
  "const tls = require('node:tls'); const fs = require('node:fs');",
  "tls.createServer({ cert: fs.readFileSync('certs/server.pem'), key: fs.readFileSync('certs/server.key') },",
  "  (s) => s.end(`tls hello from ${process.env.KNE_NODE}`)).listen(8443, '0.0.0.0');",
].join(" ");

function selfSigned(fields: Partial<Pick<topo.SelfSignedCertCfg, "commonName" | "keySize" | "certName" | "keyName">>): topo.Config["cert"] {
  return create(topo.CertificateCfgSchema, { config: { case: "selfSigned", value: create(topo.SelfSignedCertCfgSchema, fields) } });
}

/** Connects with TLS trusting only `caPem`, checking the server name; returns what the server says. */
function tlsAsk(host: string, port: number, caPem: string, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host, port, ca: caPem, servername });
    const chunks: Buffer[] = [];
    s.setTimeout(5000, () => s.destroy(new Error("timeout")));
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("error", reject);
    s.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

describe.runIf(isRoot)("node certificates (local backend)", () => {
  let h: Harness;
  const name = "certs";

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => {
    await deleteQuietly(h, name);
    await h?.close();
  });

  it("gives a HOST node its certificate at create, serves it over TLS, regenerates it on request, refuses vendors without TLS", async () => {
    const topology = create(topo.TopologySchema, {
      name,
      nodes: [
        create(topo.NodeSchema, {
          name: "tls",
          vendor: topo.Vendor.HOST,
          config: { command: [process.execPath, "-e", tlsServer], cert: selfSigned({ commonName: "tls.lab", keySize: 3072, certName: "server.pem", keyName: "server.key" }) },
        }),
        create(topo.NodeSchema, { name: "plain", vendor: topo.Vendor.HOST }),
        // Upstream's settings on a vendor that takes no certificate: create does not fail on them.
        create(topo.NodeSchema, { name: "bird", vendor: topo.Vendor.BIRD, config: { cert: selfSigned({ keySize: 2048 }) } }),
      ],
    });
    const created = await h.topology.createTopology({ topology }, { timeoutMs: 120_000 });
    expect(created.status?.phase).toBe(managerv1.TopologyPhase.RUNNING);
    const address = created.status!.nodes.find((n) => n.name === "tls")!.managementAddress;
    const certDir = join(h.stateDir, "topologies", name, "nodes", "tls", "certs");
    const atCreate = await readFile(join(certDir, "server.pem"), "utf8");
    expect((await stat(join(certDir, "server.key"))).mode & 0o777).toBe(0o600);

    // The node's own command serves the certificate it was given; the client trusts only it.
    const hello = await waitFor("the node's TLS server", () => tlsAsk(address, 8443, atCreate, "tls.lab").catch(() => undefined), 20_000, 100);
    expect(hello).toBe("tls hello from tls");
    await expect(tlsAsk(address, 8443, atCreate, "other.lab")).rejects.toThrow(/does not match certificate's altnames/);

    const t0 = performance.now();
    const r = await h.node.generateCertificate({ topology: name, node: "tls" });
    const generateMs = performance.now() - t0;
    expect([r.certificatePath, r.keyPath]).toEqual([join(certDir, "server.pem"), join(certDir, "server.key")]);
    const pem = new TextDecoder().decode(r.certificatePem);
    expect(await readFile(r.certificatePath, "utf8")).toBe(pem);
    const cert = new X509Certificate(pem);
    expect(cert.subject).toBe("CN=tls.lab");
    expect(cert.subjectAltName).toBe(`DNS:tls, DNS:tls.lab, IP Address:${address}`);
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(r.keyPath)))).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(cert.serialNumber).not.toBe(new X509Certificate(atCreate).serialNumber);
    console.log(`certificate: RSA 3072 generated and written in ${generateMs.toFixed(0)} ms`);

    const refused = await h.node.generateCertificate({ topology: name, node: "bird" }).then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(refused?.code).toBe(Code.Unimplemented);
    expect(refused?.rawMessage).toBe("node bird: vendor BIRD does not take certificates (BIRD serves no TLS endpoint)");
    const unset = await h.node.generateCertificate({ topology: name, node: "plain" }).then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(unset?.code).toBe(Code.InvalidArgument);
    expect(unset?.rawMessage).toContain("nodes[plain].config.cert: is not set");
    expect((await h.node.generateCertificate({ topology: name, node: "nope" }).catch((e: unknown) => ConnectError.from(e)))).toMatchObject({ code: Code.NotFound });

    await h.topology.deleteTopology({ name }, { timeoutMs: 120_000 });
    expect(kernelLeftovers(name)).toEqual({ namespaces: [], ports: [] });
    expect(processesUsing(h.stateDir)).toEqual([]);
  }, 180_000);
});
