/**
 * A node's certificate as its topology asks for it (`config.cert.self_signed`, upstream's
 * fields): the common name (default: the node's name), the key size (default 2048), and the
 * file names the node reads (`cert_name`, `key_name`; default `cert.pem`, `key.pem`). The
 * certificate also names the node (DNS) and its management address (IP) as subject
 * alternative names, so clients that check them connect to either.
 *
 * On the local backend the files go to the node's `certs/` directory; a HOST node's command
 * runs in its node directory and finds them at `certs/<cert_name>` and `certs/<key_name>`.
 * Vendors that serve nothing over TLS take no certificate: UNIMPLEMENTED naming the vendor.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { topo } from "@kne/proto";
import { badCertificateField, certificateUnsupported, missingCertificateConfig } from "./errors.ts";
import { DEFAULT_KEY_SIZE, MAX_KEY_SIZE, MIN_KEY_SIZE, type SelfSignedCertificate, type SelfSignedRequest, commonNameProblem, generateSelfSigned, isDnsName } from "./self-signed.ts";

export const DEFAULT_CERT_NAME = "cert.pem";
export const DEFAULT_KEY_NAME = "key.pem";
/** The directory under a node's directory that holds its certificate and key. */
export const NODE_CERT_DIR = "certs";

export interface CertificatePlan {
  certName: string;
  keyName: string;
  request: SelfSignedRequest;
}

/** Why a local vendor takes no certificate; vendors not listed here (and not HOST) take none either. */
const localCertificateRefusals: Partial<Record<topo.Vendor, string>> = {
  [topo.Vendor.FRR]: "FRR daemons serve no TLS endpoint",
  [topo.Vendor.GOBGP]: "gobgpd's API runs without TLS on the local backend",
  [topo.Vendor.BIRD]: "BIRD serves no TLS endpoint",
};

/** Local vendors whose nodes take certificates: the node's own command reads them. */
const localCertificateVendors: ReadonlySet<topo.Vendor> = new Set([topo.Vendor.HOST]);

/** Whether the node's vendor takes certificates on the local backend. */
export function takesLocalCertificates(node: topo.Node): boolean {
  return localCertificateVendors.has(node.vendor);
}

/** Throws UNIMPLEMENTED naming the vendor unless the node's vendor takes certificates locally. */
export function requireLocalCertificates(node: topo.Node, vendorName: string): void {
  if (takesLocalCertificates(node)) return;
  throw certificateUnsupported(node.name, vendorName, localCertificateRefusals[node.vendor] ?? "it has no certificate support on the local backend");
}

function fileName(value: string, fallback: string, field: string): string {
  const name = value === "" ? fallback : value;
  if (name === "." || name === ".." || !/^[A-Za-z0-9._-]{1,128}$/.test(name)) {
    throw badCertificateField(field, `${JSON.stringify(name)} is not a file name (letters, digits and . _ -; no directories)`);
  }
  return name;
}

/** The certificate the node's `config.cert.self_signed` asks for, checked field by field. */
export function certificatePlan(node: topo.Node, options: { managementAddress?: string } = {}): CertificatePlan {
  const cert = node.config?.cert?.config;
  if (cert?.case !== "selfSigned") throw missingCertificateConfig(node.name);
  const cfg = cert.value;
  const at = `nodes[${node.name}].config.cert.self_signed`;
  const keySize = cfg.keySize === 0 ? DEFAULT_KEY_SIZE : cfg.keySize;
  if (keySize < MIN_KEY_SIZE || keySize > MAX_KEY_SIZE) throw badCertificateField(`${at}.key_size`, `key size ${keySize} is outside ${MIN_KEY_SIZE}..${MAX_KEY_SIZE}`);
  const commonName = cfg.commonName === "" ? node.name : cfg.commonName;
  const problem = commonNameProblem(commonName);
  if (problem) throw badCertificateField(`${at}.common_name`, `common name ${JSON.stringify(commonName)} ${problem}`);
  const certName = fileName(cfg.certName, DEFAULT_CERT_NAME, `${at}.cert_name`);
  const keyName = fileName(cfg.keyName, DEFAULT_KEY_NAME, `${at}.key_name`);
  if (certName === keyName) throw badCertificateField(`${at}.key_name`, `key_name and cert_name are both ${JSON.stringify(certName)}`);
  const dnsNames = [...new Set([node.name, commonName])].filter(isDnsName);
  return {
    certName,
    keyName,
    request: { commonName, keySize, dnsNames, ...(options.managementAddress ? { ipAddresses: [options.managementAddress] } : {}) },
  };
}

export interface WrittenCertificate extends SelfSignedCertificate {
  certificatePath: string;
  keyPath: string;
}

/** Generates the node's certificate and writes it (0644) and its key (0600) under `nodeDir/certs/`. */
export async function writeNodeCertificate(nodeDir: string, plan: CertificatePlan): Promise<WrittenCertificate> {
  const generated = await generateSelfSigned(plan.request);
  const dir = join(nodeDir, NODE_CERT_DIR);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const certificatePath = join(dir, plan.certName);
  const keyPath = join(dir, plan.keyName);
  await writeFile(keyPath, generated.privateKeyPem, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(certificatePath, generated.certificatePem, { mode: 0o644 });
  return { ...generated, certificatePath, keyPath };
}
