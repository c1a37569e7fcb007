/**
 * How commands reach the topology manager: in this process (the local backend behind a
 * router transport; the default) or a topology-manager server (`--server ADDR` or
 * `KNE_SERVER`, gRPC over HTTP/2 cleartext). Commands use the same clients either way.
 */
import { readFileSync } from "node:fs";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { managerv1 } from "@kne/proto";
import { createFastGrpcTransport } from "@kne/rpc";
import { UsageError } from "./usage-error";

export const SERVER_ENV = "KNE_SERVER";
/** The bearer token a --server requires on calls that change state (the value itself). */
export const AUTH_TOKEN_ENV = "KNE_AUTH_TOKEN";

/** Flags every command that talks to the manager takes. */
export const connectionOptions = {
  server: { type: "string" },
  "state-dir": { type: "string" },
  backend: { type: "string" },
  kubeconfig: { type: "string" },
  kubecfg: { type: "string" },
  "operator-mode": { type: "string" },
  "auth-token-file": { type: "string" },
} as const;

/** The connection flags as parsed. */
export interface ConnectionFlags {
  server?: string;
  "state-dir"?: string;
  backend?: string;
  kubeconfig?: string;
  kubecfg?: string;
  "operator-mode"?: string;
  "auth-token-file"?: string;
}

export const connectionHelp = `      --server ADDR     a topology-manager to use (host:port or URL; also $${SERVER_ENV});
                        without one, kne runs the manager in this process
      --state-dir DIR   where the in-process manager keeps topologies (default
                        $KNE_STATE_DIR, else /var/lib/kne)
      --backend B       local (default; also $KNE_BACKEND) or kubernetes: the in-process
                        manager runs topologies in the cluster of --kubeconfig
      --kubeconfig F    the cluster's kubeconfig (also --kubecfg; default $KUBECONFIG,
                        else ~/.kube/config)
      --operator-mode M auto (default), cr or pod: vendors run by an operator upstream
                        get its custom resource, or the pod it would make
      --auth-token-file F  the bearer token of a --server that requires one (the file holds
                        it; or the token itself in $${AUTH_TOKEN_ENV})`;

export interface ManagerConnection {
  readonly where: string;
  readonly topology: Client<typeof managerv1.TopologyService>;
  readonly link: Client<typeof managerv1.LinkService>;
  readonly node: Client<typeof managerv1.NodeService>;
  close(): Promise<void>;
}

export function serverUrl(address: string): string {
  return /^https?:\/\//.test(address) ? address : `http://${address}`;
}

/** The token from --auth-token-file, else $KNE_AUTH_TOKEN; surrounding whitespace is not part of it. */
export function bearerToken(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const file = flags["auth-token-file"];
  let token: string | undefined;
  if (file !== undefined) {
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new UsageError(`--auth-token-file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (token === "") throw new UsageError(`--auth-token-file ${file}: the file holds no token`);
  } else {
    token = env[AUTH_TOKEN_ENV]?.trim() || undefined;
  }
  if (token !== undefined && /\s/.test(token)) throw new UsageError(`${file !== undefined ? `--auth-token-file ${file}` : `$${AUTH_TOKEN_ENV}`}: the token must be one line without spaces`);
  return token;
}

export async function connectManager(flags: ConnectionFlags): Promise<ManagerConnection> {
  const server = flags.server ?? (process.env[SERVER_ENV] || undefined);
  let transport: Transport;
  let close = async (): Promise<void> => undefined;
  let where: string;
  if (server === undefined && flags["auth-token-file"] !== undefined) {
    throw new UsageError("--auth-token-file is the token of a --server; the in-process manager asks for none");
  }
  if (server !== undefined) {
    if (flags.backend !== undefined || flags.kubeconfig !== undefined || flags.kubecfg !== undefined || flags["operator-mode"] !== undefined) {
      throw new UsageError("--backend, --kubeconfig and --operator-mode configure the in-process manager; with --server, the server's own flags decide");
    }
    const token = bearerToken(flags);
    const interceptors: Interceptor[] = token === undefined ? [] : [(next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    }];
    // Unary calls on one raw HTTP/2 session (the lean client), watches through connect-node;
    // close() ends both connections, so the process can exit.
    const fast = createFastGrpcTransport({ baseUrl: serverUrl(server), interceptors });
    transport = fast;
    close = () => fast.close();
    where = serverUrl(server);
  } else if ((flags.backend ?? (process.env["KNE_BACKEND"] || "local")) === "kubernetes") {
    const mode = flags["operator-mode"] ?? "auto";
    if (mode !== "auto" && mode !== "cr" && mode !== "pod") throw new UsageError(`--operator-mode ${JSON.stringify(mode)}: must be auto, cr or pod`);
    if (flags.kubeconfig !== undefined && flags.kubecfg !== undefined) throw new UsageError("--kubeconfig and --kubecfg name the same thing: give one");
    const { createEmbeddedKubernetesManager } = await import("@kne/manager");
    const kubeconfigPath = flags.kubeconfig ?? flags.kubecfg;
    const embedded = await createEmbeddedKubernetesManager({ ...(kubeconfigPath ? { kubeconfigPath } : {}), operatorMode: mode });
    transport = embedded.transport;
    close = () => embedded.close();
    where = `in-process, cluster ${embedded.backend.client.server.origin}`;
  } else {
    const backend = flags.backend ?? (process.env["KNE_BACKEND"] || "local");
    if (backend !== "local") throw new UsageError(`--backend ${JSON.stringify(backend)}: must be local or kubernetes`);
    if (flags.kubeconfig !== undefined || flags.kubecfg !== undefined || flags["operator-mode"] !== undefined) throw new UsageError("--kubeconfig, --kubecfg and --operator-mode apply to --backend kubernetes");
    // Loaded on demand: the embedded manager pulls in the agent, data plane and vendors.
    const { createEmbeddedManager } = await import("@kne/manager");
    const embedded = createEmbeddedManager({ ...(flags["state-dir"] ? { stateDir: flags["state-dir"] } : {}) });
    transport = embedded.transport;
    close = () => embedded.close();
    where = `in-process (state dir ${embedded.backend.stateDir})`;
  }
  return {
    where,
    topology: createClient(managerv1.TopologyService, transport),
    link: createClient(managerv1.LinkService, transport),
    node: createClient(managerv1.NodeService, transport),
    close,
  };
}

/** Runs `fn` with a connection and closes it afterwards. */
export async function withManager<T>(flags: ConnectionFlags, fn: (m: ManagerConnection) => Promise<T>): Promise<T> {
  const m = await connectManager(flags);
  try {
    return await fn(m);
  } finally {
    await m.close();
  }
}
