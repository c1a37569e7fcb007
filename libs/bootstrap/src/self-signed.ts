/**
 * Self-signed X.509 certificates for nodes (a TLS server such as gNMI presents one), made
 * by `openssl req -x509` (argument arrays, no shell) in a private temporary directory that
 * is removed afterwards. RSA keys of the requested size, SHA-256, the subject's common name
 * and subject alternative names (DNS names and IP addresses), usable by servers and clients.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { invalidArgument } from "@kne/rpc";
import { opensslFailed } from "./errors.ts";

export interface SelfSignedRequest {
  commonName: string;
  /** RSA modulus in bits. */
  keySize: number;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  /** Default 365. */
  validityDays?: number;
}

export interface SelfSignedCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/** Key sizes `openssl` is asked for: below 2048 is refused by current TLS libraries anyway. */
export const MIN_KEY_SIZE = 2048;
export const MAX_KEY_SIZE = 8192;
export const DEFAULT_KEY_SIZE = 2048;

/** A DNS name (labels of letters, digits and hyphens; a leading `*.` wildcard allowed). */
export function isDnsName(name: string): boolean {
  return name.length <= 253 && /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(name);
}

/** Characters a common name may have here: none that `openssl -subj` would read as syntax. */
export function commonNameProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (name.length > 64) return "is longer than 64 characters (the X.509 limit)";
  if (!/^[A-Za-z0-9 ._:*@-]+$/.test(name)) return "may only have letters, digits, spaces and . _ : * @ -";
  return undefined;
}

function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 120_000, maxBuffer: 1 << 20 }, (err, _stdout, stderr) => (err ? reject(opensslFailed(err, String(stderr))) : resolve()));
  });
}

export async function generateSelfSigned(request: SelfSignedRequest): Promise<SelfSignedCertificate> {
  const problem = commonNameProblem(request.commonName);
  if (problem) throw invalidArgument(`common name ${JSON.stringify(request.commonName)} ${problem}`);
  if (!Number.isInteger(request.keySize) || request.keySize < MIN_KEY_SIZE || request.keySize > MAX_KEY_SIZE) {
    throw invalidArgument(`key size ${request.keySize} is outside ${MIN_KEY_SIZE}..${MAX_KEY_SIZE}`);
  }
  const dns = [...new Set(request.dnsNames ?? [])];
  const ips = [...new Set(request.ipAddresses ?? [])];
  for (const d of dns) if (!isDnsName(d)) throw invalidArgument(`subject alternative name ${JSON.stringify(d)} is not a DNS name`);
  for (const ip of ips) if (isIP(ip) === 0) throw invalidArgument(`subject alternative name ${JSON.stringify(ip)} is not an IP address`);
  const san = [...dns.map((d) => `DNS:${d}`), ...ips.map((ip) => `IP:${ip}`)];

  const dir = await mkdtemp(join(tmpdir(), "kne-cert-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      `rsa:${request.keySize}`,
      "-sha256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      String(request.validityDays ?? 365),
      "-subj",
      `/CN=${request.commonName}`,
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "-addext",
      "extendedKeyUsage=serverAuth,clientAuth",
      ...(san.length > 0 ? ["-addext", `subjectAltName=${san.join(",")}`] : []),
    ]);
    const [certificatePem, privateKeyPem] = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]);
    return { certificatePem, privateKeyPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
