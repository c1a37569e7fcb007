/**
 * The topology-manager's command line, compiled in stages: raw flags and environment →
 * validated flags (`parseManagerFlags`, no I/O) → loaded options with the PEM material and
 * the token read from their files (`loadManagerOptions`). Every rejection is a FlagError
 * naming the flag (or its environment variable) and what to change.
 */
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { FlagError, parseServerCommandLine, serverHelp, type ServerCommand, type ServerFlags, type TlsOptions } from "@kne/rpc";
import { parseImageOverrides } from "@kne/manager";
import { parseListenAddress } from "@kne/telemetry";

/** The environment variable behind each flag of the manager; a flag wins over its variable. */
export const managerEnv = {
  tlsCert: "KNE_TLS_CERT",
  tlsKey: "KNE_TLS_KEY",
  tlsClientCa: "KNE_TLS_CLIENT_CA",
  authTokenFile: "KNE_AUTH_TOKEN_FILE",
  stateDir: "KNE_STATE_DIR",
  metricsAddr: "KNE_METRICS_ADDR",
  otlpEndpoint: "OTEL_EXPORTER_OTLP_ENDPOINT",
  maxNodes: "KNE_MAX_NODES",
  maxLinks: "KNE_MAX_LINKS",
  maxMessageBytes: "KNE_MAX_MESSAGE_BYTES",
  backend: "KNE_BACKEND",
  kubeconfig: "KUBECONFIG",
  operatorMode: "KNE_OPERATOR_MODE",
  installCrds: "KNE_INSTALL_CRDS",
  kubecfgDir: "KNE_KUBECFG_DIR",
  kubecfgMaxClusters: "KNE_KUBECFG_MAX_CLUSTERS",
  imageOverrides: "KNE_IMAGE_OVERRIDES",
} as const;

/** Where topologies run: this host, or a Kubernetes cluster (`--backend kubernetes`). */
export interface BackendFlags {
  kind: "local" | "kubernetes";
  /** The cluster's kubeconfig (kubernetes only; default $KUBECONFIG, then ~/.kube/config). */
  kubeconfig?: string;
  /** Vendors with an operator: "auto" (its CR when its CRD is installed, else the pod it would make), "cr", "pod". */
  operatorMode: "auto" | "cr" | "pod";
  /** Apply the kne.dev CRDs at start (default); false only checks they are installed (the Helm chart installs them). */
  installCrds?: boolean;
  /** The directory whose kubeconfigs upstream's CreateTopology may name by `kubecfg` (kubernetes only). */
  kubecfgDir?: string;
  /** Clusters besides its own that the manager serves at once for such requests. */
  kubecfgMaxClusters?: number;
  /** Image references replaced in the pods the manager makes (FROM → TO). */
  imageOverrides?: ReadonlyMap<string, string>;
}

/** What the manager accepts by default: generous for a lab, bounded against accidents. */
export const defaultLimits = { maxNodes: 10_000, maxLinks: 50_000, maxMessageBytes: 16 << 20 } as const;

/** Observability and limits: values, nothing to read from files. */
export interface ManagerRuntimeFlags {
  /** host:port of the Prometheus /metrics endpoint. */
  metricsAddr?: string;
  /** OTLP/HTTP base URL for traces and metrics. */
  otlpEndpoint?: string;
  maxNodes: number;
  maxLinks: number;
  maxMessageBytes: number;
}

/** Validated paths; nothing has been read yet. */
export interface ManagerFlags {
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  authTokenFile?: string;
  stateDir?: string;
  runtime?: ManagerRuntimeFlags;
  backendChoice?: BackendFlags;
}

export type TopologyManagerFlags = { help: true } | { help: false; server: Extract<ServerFlags, { help: false }>; manager: ManagerFlags };

/** What the app is started with once the files are read. */
export interface LoadedManagerOptions {
  tls?: TlsOptions;
  authToken?: string;
  stateDir?: string;
  runtime?: ManagerRuntimeFlags;
  backendChoice?: BackendFlags;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the manager's flags (and the common server flags); throws FlagError. */
export function parseManagerFlags(args: readonly string[], command: ServerCommand, env: Env = process.env): TopologyManagerFlags {
  const { server, values } = parseServerCommandLine(args, command, [
    "tls-cert",
    "tls-key",
    "tls-client-ca",
    "auth-token-file",
    "state-dir",
    "metrics-addr",
    "otlp-endpoint",
    "max-nodes",
    "max-links",
    "max-message-bytes",
    "backend",
    "kubeconfig",
    "kubecfg",
    "operator-mode",
    "install-crds",
    "kubecfg-dir",
    "kubecfg-max-clusters",
    "image-overrides",
  ]);
  if (server.help) return { help: true };

  const pick = (flag: "tls-cert" | "tls-key" | "tls-client-ca" | "auth-token-file" | "state-dir", envName: string) => {
    const fromFlag = values[flag];
    const value = fromFlag ?? (env[envName] || undefined);
    if (value === undefined) return undefined;
    const source = fromFlag !== undefined ? `--${flag}` : `$${envName}`;
    if (value.trim() === "") throw new FlagError(`${source} must not be empty`);
    return { value: resolve(value), source };
  };
  const cert = pick("tls-cert", managerEnv.tlsCert);
  const key = pick("tls-key", managerEnv.tlsKey);
  const clientCa = pick("tls-client-ca", managerEnv.tlsClientCa);
  const tokenFile = pick("auth-token-file", managerEnv.authTokenFile);
  const stateDir = pick("state-dir", managerEnv.stateDir);

  if ((cert === undefined) !== (key === undefined)) {
    const [given, missing] = cert ? [cert.source, "--tls-key"] : [key!.source, "--tls-cert"];
    throw new FlagError(`${given} needs ${missing} too: TLS takes a certificate and its private key`);
  }
  if (clientCa !== undefined && cert === undefined) {
    throw new FlagError(`${clientCa.source} (mTLS) needs --tls-cert and --tls-key: client certificates are checked only over TLS`);
  }
  const manager: ManagerFlags = { runtime: parseRuntimeFlags(values, env) };
  if (cert && key) manager.tls = { certFile: cert.value, keyFile: key.value, ...(clientCa ? { clientCaFile: clientCa.value } : {}) };
  if (tokenFile) manager.authTokenFile = tokenFile.value;
  if (stateDir) manager.stateDir = stateDir.value;
  manager.backendChoice = parseBackendFlags(values, env);
  return { help: false, server, manager };
}

/** Reads the certificate, key, client CA and token files; throws FlagError naming the flag. */
export async function loadManagerOptions(flags: ManagerFlags): Promise<LoadedManagerOptions> {
  const loaded: LoadedManagerOptions = {};
  if (flags.tls) {
    const cert = await readFlagFile("--tls-cert", flags.tls.certFile);
    const key = await readFlagFile("--tls-key", flags.tls.keyFile);
    requirePem("--tls-cert", flags.tls.certFile, cert, "CERTIFICATE");
    requirePem("--tls-key", flags.tls.keyFile, key, "PRIVATE KEY");
    loaded.tls = { cert, key };
    if (flags.tls.clientCaFile !== undefined) {
      const ca = await readFlagFile("--tls-client-ca", flags.tls.clientCaFile);
      requirePem("--tls-client-ca", flags.tls.clientCaFile, ca, "CERTIFICATE");
      loaded.tls = { cert, key, ca, requestClientCert: true };
    }
  }
  if (flags.authTokenFile !== undefined) {
    // One token per file; surrounding whitespace (the usual trailing newline) is not part of it.
    const token = (await readFlagFile("--auth-token-file", flags.authTokenFile)).trim();
    if (token === "") throw new FlagError(`--auth-token-file ${flags.authTokenFile}: the file holds no token`);
    if (/\s/.test(token)) throw new FlagError(`--auth-token-file ${flags.authTokenFile}: the token must be one line without spaces`);
    loaded.authToken = token;
  }
  if (flags.stateDir !== undefined) loaded.stateDir = flags.stateDir;
  if (flags.runtime) loaded.runtime = flags.runtime;
  if (flags.backendChoice?.kubecfgDir !== undefined) {
    const dir = flags.backendChoice.kubecfgDir;
    const found = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
    if (found instanceof Error || !found.isDirectory()) throw new FlagError(`--kubecfg-dir ${dir}: ${found instanceof Error ? (found.code === "ENOENT" ? "no such directory" : found.message) : "not a directory"}`);
  }
  if (flags.backendChoice) loaded.backendChoice = flags.backendChoice;
  return loaded;
}

/** --backend, --kubeconfig (upstream's CLI spells it --kubecfg; both are taken), --operator-mode. */
export function parseBackendFlags(values: Readonly<Record<string, string | undefined>>, env: Env): BackendFlags {
  const pick = (flag: string, envName: string) => {
    const fromFlag = values[flag];
    const value = fromFlag ?? (env[envName] || undefined);
    return value === undefined ? undefined : { value: value.trim(), source: fromFlag !== undefined ? `--${flag}` : `$${envName}` };
  };
  const backend = pick("backend", managerEnv.backend);
  const kind = backend?.value ?? "local";
  if (kind !== "local" && kind !== "kubernetes") throw new FlagError(`${backend!.source} ${JSON.stringify(kind)}: must be local or kubernetes`);
  const mode = pick("operator-mode", managerEnv.operatorMode);
  const operatorMode = mode?.value ?? "auto";
  if (operatorMode !== "auto" && operatorMode !== "cr" && operatorMode !== "pod") throw new FlagError(`${mode!.source} ${JSON.stringify(operatorMode)}: must be auto, cr or pod`);
  if (values["kubeconfig"] !== undefined && values["kubecfg"] !== undefined) throw new FlagError("--kubeconfig and --kubecfg name the same thing: give one");
  const config = values["kubecfg"] !== undefined ? { value: values["kubecfg"], source: "--kubecfg" } : pick("kubeconfig", managerEnv.kubeconfig);
  if (config !== undefined && config.value.trim() === "") throw new FlagError(`${config.source} must not be empty`);
  const crds = pick("install-crds", managerEnv.installCrds);
  if (crds !== undefined && crds.value !== "true" && crds.value !== "false") throw new FlagError(`${crds.source} ${JSON.stringify(crds.value)}: must be true or false`);
  const kubecfgDir = pick("kubecfg-dir", managerEnv.kubecfgDir);
  if (kubecfgDir !== undefined && kubecfgDir.value === "") throw new FlagError(`${kubecfgDir.source} must not be empty`);
  const maxClusters = pick("kubecfg-max-clusters", managerEnv.kubecfgMaxClusters);
  if (maxClusters !== undefined && (!/^\d+$/.test(maxClusters.value) || Number(maxClusters.value) < 1 || Number(maxClusters.value) > 64)) {
    throw new FlagError(`${maxClusters.source} must be a whole number from 1 to 64, got "${maxClusters.value}"`);
  }
  const overridesText = pick("image-overrides", managerEnv.imageOverrides);
  let imageOverrides: Map<string, string> | undefined;
  if (overridesText !== undefined) {
    try {
      imageOverrides = parseImageOverrides(overridesText.value);
    } catch (err) {
      throw new FlagError(`${overridesText.source}: ${(err as Error).message}`);
    }
  }
  const explicit = ["kubeconfig", "kubecfg", "operator-mode", "install-crds", "kubecfg-dir", "kubecfg-max-clusters", "image-overrides"].some((flag) => values[flag] !== undefined);
  if (kind === "local" && explicit) throw new FlagError("--kubeconfig, --kubecfg, --operator-mode, --install-crds, --kubecfg-dir, --kubecfg-max-clusters and --image-overrides apply to --backend kubernetes");
  return {
    kind,
    operatorMode,
    ...(kind === "kubernetes" && config ? { kubeconfig: resolve(config.value) } : {}),
    ...(kind === "kubernetes" && crds?.value === "false" ? { installCrds: false } : {}),
    ...(kind === "kubernetes" && kubecfgDir ? { kubecfgDir: resolve(kubecfgDir.value) } : {}),
    ...(kind === "kubernetes" && maxClusters ? { kubecfgMaxClusters: Number(maxClusters.value) } : {}),
    ...(kind === "kubernetes" && imageOverrides ? { imageOverrides } : {}),
  };
}

function parseRuntimeFlags(values: Readonly<Record<string, string | undefined>>, env: Env): ManagerRuntimeFlags {
  const raw = (flag: string, envName: string): { value: string; source: string } | undefined => {
    const fromFlag = values[flag];
    const value = fromFlag ?? (env[envName] || undefined);
    return value === undefined ? undefined : { value: value.trim(), source: fromFlag !== undefined ? `--${flag}` : `$${envName}` };
  };
  const count = (flag: string, envName: string, fallback: number): number => {
    const v = raw(flag, envName);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v.value) || !Number.isSafeInteger(Number(v.value)) || Number(v.value) < 1) {
      throw new FlagError(`${v.source} must be a whole number of at least 1, got "${v.value}"`);
    }
    return Number(v.value);
  };
  const out: ManagerRuntimeFlags = {
    maxNodes: count("max-nodes", managerEnv.maxNodes, defaultLimits.maxNodes),
    maxLinks: count("max-links", managerEnv.maxLinks, defaultLimits.maxLinks),
    maxMessageBytes: count("max-message-bytes", managerEnv.maxMessageBytes, defaultLimits.maxMessageBytes),
  };
  const metrics = raw("metrics-addr", managerEnv.metricsAddr);
  if (metrics) {
    try {
      parseListenAddress(metrics.value, metrics.source);
    } catch (err) {
      throw new FlagError((err as Error).message);
    }
    out.metricsAddr = metrics.value;
  }
  const otlp = raw("otlp-endpoint", managerEnv.otlpEndpoint);
  if (otlp) {
    if (!/^https?:\/\/[^/\s]+/.test(otlp.value)) throw new FlagError(`${otlp.source} must be an http(s) URL such as http://127.0.0.1:4318, got "${otlp.value}"`);
    out.otlpEndpoint = otlp.value;
  }
  return out;
}

async function readFlagFile(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (err as Error).message;
    throw new FlagError(`${flag} ${path}: cannot read it (${why})`);
  }
}

function requirePem(flag: string, path: string, text: string, label: "CERTIFICATE" | "PRIVATE KEY"): void {
  // "PRIVATE KEY" also matches "RSA PRIVATE KEY" and "EC PRIVATE KEY".
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) {
    throw new FlagError(`${flag} ${path}: not a PEM ${label.toLowerCase()}`);
  }
}

/** --help: the common server flags, then the manager's own. */
export function topologyManagerHelp(command: ServerCommand): string {
  const common = serverHelp(command);
  const extra = `
Manager flags (each also read from an environment variable; the flag wins):
  --backend <local|kubernetes>
                             where topologies run (also $${managerEnv.backend}; default local):
                             this host, or a Kubernetes cluster (kne.dev CRDs are installed)
  --kubeconfig <file>        the cluster of --backend kubernetes (also --kubecfg, $${managerEnv.kubeconfig};
                             default ~/.kube/config)
  --operator-mode <auto|cr|pod>
                             vendors run by an operator upstream (cEOS, SR Linux, ...): its custom
                             resource (cr), the pod it would make (pod), or cr when the operator's
                             CRD is installed (auto, the default; also $${managerEnv.operatorMode})
  --install-crds <true|false>
                             apply the kne.dev CRDs at start (true, the default), or only check
                             that they are installed (false: the Helm chart installs them, and
                             the manager then needs no right to write CRDs; also $${managerEnv.installCrds})
  --kubecfg-dir <dir>        upstream's CreateTopology may name by its kubecfg field any kubeconfig
                             in this directory (relative names are taken in it): the topology is
                             made in that cluster, and later calls naming it go there (also
                             $${managerEnv.kubecfgDir}). Without it only the manager's own
                             kubeconfig may be named (others: PERMISSION_DENIED)
  --kubecfg-max-clusters <n> clusters besides its own served at once for kubecfg requests
                             (1-64, default 4; also $${managerEnv.kubecfgMaxClusters})
  --image-overrides <FROM=TO[,FROM=TO...]>
                             images to run instead of others in the pods of --backend kubernetes
                             (also $${managerEnv.imageOverrides}): a container whose image is exactly
                             FROM runs TO, e.g. a vendor's default alpine:latest or the init image
                             networkop/init-wait:latest replaced by images imported into the nodes
  --state-dir <dir>          where topologies are kept (also $${managerEnv.stateDir};
                             default /var/lib/kne)
  --tls-cert <file>          serve TLS with this PEM certificate chain (also $${managerEnv.tlsCert});
                             needs --tls-key
  --tls-key <file>           the PEM private key of --tls-cert (also $${managerEnv.tlsKey})
  --tls-client-ca <file>     mTLS: require a client certificate signed by this PEM CA and
                             refuse the connection otherwise (also $${managerEnv.tlsClientCa});
                             needs --tls-cert and --tls-key
  --auth-token-file <file>   require "authorization: Bearer <token>" on every call that
                             changes state; the file holds the token (also
                             $${managerEnv.authTokenFile}). Reads (Get, List, Watch, Show, health,
                             reflection) stay open.

Observability and limits:
  --metrics-addr <host:port> serve Prometheus metrics at http://<host:port>/metrics: RPC
                             latency histograms, topologies, nodes, links, watchers,
                             reconcile durations (also $${managerEnv.metricsAddr}; :9464 for all interfaces)
  --otlp-endpoint <url>      export traces and metrics over OTLP/HTTP to this base URL, e.g.
                             http://127.0.0.1:4318 (also $${managerEnv.otlpEndpoint})
  --max-nodes <n>            nodes per topology (also $${managerEnv.maxNodes}; default ${defaultLimits.maxNodes})
  --max-links <n>            links per topology (also $${managerEnv.maxLinks}; default ${defaultLimits.maxLinks})
  --max-message-bytes <n>    largest request message (also $${managerEnv.maxMessageBytes};
                             default ${defaultLimits.maxMessageBytes}); larger ones fail with RESOURCE_EXHAUSTED

With --tls-cert the port speaks TLS (HTTP/2 via ALPN, HTTP/1.1 for gRPC-Web and Connect):
  buf curl --cacert ca.pem --cert client.pem --key client-key.pem \\
    https://127.0.0.1:${command.defaultPort}/kne.manager.v1.TopologyService/ListTopologies
  grpcurl -cacert ca.pem -cert client.pem -key client-key.pem -H "authorization: Bearer $TOKEN" \\
    -d '{"name":"t1"}' 127.0.0.1:${command.defaultPort} kne.manager.v1.TopologyService/DeleteTopology
`;
  // The manager's flags go right after the common ones, before the examples and services.
  const at = common.indexOf("\nServes gRPC");
  return at < 0 ? common + extra : common.slice(0, at) + extra + common.slice(at);
}
