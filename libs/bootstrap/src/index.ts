/**
 * @kne/bootstrap — node configuration services that are not a vendor's own: certificates.
 *
 * - `generateSelfSigned` — a self-signed X.509 certificate and RSA key (`openssl req -x509`):
 *   common name, key size, DNS and IP subject alternative names.
 * - `certificatePlan` — what a node's `config.cert.self_signed` asks for (upstream's fields,
 *   with defaults), checked with field paths; `writeNodeCertificate` generates it into the
 *   node's `certs/` directory; `requireLocalCertificates` answers UNIMPLEMENTED naming the
 *   vendor for vendors that take none.
 * - `createBootstrapService` — `kne.bootstrap.v1.BootstrapService` (the config-bootstrapper
 *   process): certificates; the other methods belong to the kubernetes backend and answer
 *   UNIMPLEMENTED saying so.
 */
export {
  generateSelfSigned,
  isDnsName,
  commonNameProblem,
  DEFAULT_KEY_SIZE,
  MIN_KEY_SIZE,
  MAX_KEY_SIZE,
  type SelfSignedRequest,
  type SelfSignedCertificate,
} from "./self-signed.ts";
export {
  certificatePlan,
  writeNodeCertificate,
  requireLocalCertificates,
  takesLocalCertificates,
  DEFAULT_CERT_NAME,
  DEFAULT_KEY_NAME,
  NODE_CERT_DIR,
  type CertificatePlan,
  type WrittenCertificate,
} from "./node-certificate.ts";
export { createBootstrapService } from "./bootstrap-service.ts";
