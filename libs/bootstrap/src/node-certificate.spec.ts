import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { topo } from "@kne/proto";
import { fieldViolationsOf } from "@kne/rpc";
import { describe, expect, it } from "vitest";
import { certificatePlan, requireLocalCertificates, writeNodeCertificate } from "./node-certificate.ts";

function node(name: string, vendor: topo.Vendor, selfSigned?: Partial<topo.SelfSignedCertCfg>): topo.Node {
  return create(topo.NodeSchema, {
    name,
    vendor,
    ...(selfSigned ? { config: { cert: { config: { case: "selfSigned", value: create(topo.SelfSignedCertCfgSchema, selfSigned as topo.SelfSignedCertCfg) } } } } : {}),
  });
}

describe("node certificates", () => {
  it("generates what config.cert.self_signed asks for, into the node's certs/ directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kne-cert-test-"));
    try {
      const plan = certificatePlan(node("r1", topo.Vendor.HOST, { commonName: "r1.lab.example", keySize: 3072, certName: "r1.pem", keyName: "r1.key" }), { managementAddress: "198.19.0.7" });
      const written = await writeNodeCertificate(dir, plan);
      expect(written.certificatePath).toBe(join(dir, "certs", "r1.pem"));
      expect(written.keyPath).toBe(join(dir, "certs", "r1.key"));
      const cert = new X509Certificate(await readFile(written.certificatePath));
      expect(cert.subject).toBe("CN=r1.lab.example");
      expect(cert.issuer).toBe(cert.subject);
      expect(cert.subjectAltName).toBe("DNS:r1, DNS:r1.lab.example, IP Address:198.19.0.7");
      expect(cert.ca).toBe(false);
      const key = createPrivateKey(await readFile(written.keyPath));
      expect(cert.checkPrivateKey(key)).toBe(true);
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(3072);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect((await stat(written.keyPath)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("defaults the common name to the node, and names the bad field of a bad setting", () => {
    expect(certificatePlan(node("h1", topo.Vendor.HOST, {})).request).toMatchObject({ commonName: "h1", keySize: 2048, dnsNames: ["h1"] });
    const tooSmall = (() => {
      try {
        certificatePlan(node("h1", topo.Vendor.HOST, { keySize: 512 }));
      } catch (e) {
        return e;
      }
    })() as Parameters<typeof fieldViolationsOf>[0];
    expect(tooSmall.code).toBe(Code.InvalidArgument);
    expect(fieldViolationsOf(tooSmall)[0]?.field).toBe("nodes[h1].config.cert.self_signed.key_size");
    expect(() => certificatePlan(node("h1", topo.Vendor.HOST, { keyName: "N/A" }))).toThrow(/"N\/A" is not a file name/);
    expect(() => certificatePlan(node("h1", topo.Vendor.HOST))).toThrow(/node h1 has no certificate settings/);
  });

  it("answers UNIMPLEMENTED naming the vendor for vendors that take no certificate", () => {
    expect(() => requireLocalCertificates(node("h1", topo.Vendor.HOST), "HOST")).not.toThrow();
    expect(() => requireLocalCertificates(node("r1", topo.Vendor.FRR), "FRR")).toThrow(expect.objectContaining({ code: Code.Unimplemented, rawMessage: "node r1: vendor FRR does not take certificates (FRR daemons serve no TLS endpoint)" }));
  });
});
