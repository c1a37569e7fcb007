/**
 * A small Kubernetes API client over HTTPS keep-alive connections: credentials from a
 * kubeconfig (through @kubernetes/client-node), a client-side token bucket, a count of the
 * requests made (the benchmark reports it), server-side apply with field manager `kne`,
 * and watch streams. Every failure leaves as a `KubeApiError` (see kube-errors.ts).
 */
import { Agent, request as httpsRequest, type RequestOptions } from "node:https";
import { request as httpRequest, Agent as HttpAgent } from "node:http";
import * as k8s from "@kubernetes/client-node";
import { KubeApiError, kubeTransportError, type KubeStatusBody } from "./kube-errors.ts";
import { TokenBucket, type Clock, type RateLimit, systemClock } from "./rate-limiter.ts";
import { type KubeObject, type ResourceType, apiVersionOf, resourcePath, resourceTypes } from "./resource-types.ts";

export const FIELD_MANAGER = "kne";

/**
 * client-go defaults to 5 QPS / burst 10, sized for many controllers sharing one API
 * server; one manager creating a 1,000-node topology needs more, and the API server's
 * own priority and fairness still protects it.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 200, burst: 400 };

export interface KubeClientOptions {
  /** A kubeconfig file; default $KUBECONFIG, then ~/.kube/config, then in-cluster. */
  kubeconfigPath?: string;
  kubeConfig?: k8s.KubeConfig;
  rateLimit?: RateLimit;
  /** Concurrent connections to the API server. */
  maxSockets?: number;
  clock?: Clock;
}

export interface WatchEvent<T = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/** Requests made, by verb (GET, LIST, WATCH, CREATE, APPLY, PATCH, DELETE). */
export class RequestCounter {
  total = 0;
  readonly byVerb = new Map<string, number>();
  add(verb: string): void {
    this.total++;
    this.byVerb.set(verb, (this.byVerb.get(verb) ?? 0) + 1);
  }
  snapshot(): { total: number; byVerb: Record<string, number> } {
    return { total: this.total, byVerb: Object.fromEntries(this.byVerb) };
  }
}

/** How long credentials read from the kubeconfig (or the in-cluster token file) are reused. */
const CREDENTIAL_REFRESH_MS = 60_000;

export function loadKubeConfig(path?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error(`kubeconfig ${path ?? "(default)"}: no current cluster`);
  return kc;
}

export class KubeClient {
  readonly requests = new RequestCounter();
  readonly server: URL;
  private readonly kc: k8s.KubeConfig;
  private readonly limiter: TokenBucket;
  private readonly agent: Agent | HttpAgent;
  private tlsOptions: RequestOptions | undefined;
  private tlsOptionsAt = 0;
  /** Types known by kind (`apiVersion/kind`): built-ins and ours, plus operator kinds registered later. */
  private readonly types = new Map<string, ResourceType>();

  constructor(options: KubeClientOptions = {}) {
    this.kc = options.kubeConfig ?? loadKubeConfig(options.kubeconfigPath);
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    this.server = new URL(cluster.server);
    this.limiter = new TokenBucket(options.rateLimit ?? DEFAULT_RATE_LIMIT, options.clock ?? systemClock);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.agent = this.server.protocol === "https:" ? new Agent(agentOptions) : new HttpAgent(agentOptions);
    for (const rt of Object.values(resourceTypes)) this.registerType(rt);
  }

  registerType(rt: ResourceType): void {
    this.types.set(`${apiVersionOf(rt)}/${rt.kind}`, rt);
  }

  typeOf(obj: Pick<KubeObject, "apiVersion" | "kind">): ResourceType {
    const rt = this.types.get(`${obj.apiVersion}/${obj.kind}`);
    if (!rt) throw new Error(`unknown Kubernetes kind ${obj.apiVersion} ${obj.kind}: its CRD is not known to this client`);
    return rt;
  }

  close(): void {
    this.agent.destroy();
  }

  private async options(method: string, path: string, headers: Record<string, string>): Promise<RequestOptions> {
    // Read again now and then: in a pod the credential is a projected ServiceAccount token
    // file that the kubelet replaces before it expires.
    if (!this.tlsOptions || Date.now() - this.tlsOptionsAt > CREDENTIAL_REFRESH_MS) {
      const base: RequestOptions = {};
      await this.kc.applyToHTTPSOptions(base);
      this.tlsOptions = base;
      this.tlsOptionsAt = Date.now();
    }
    return {
      ...this.tlsOptions,
      method,
      host: this.server.hostname,
      port: this.server.port || (this.server.protocol === "https:" ? 443 : 80),
      path,
      agent: this.agent,
      headers: { ...(this.tlsOptions.headers as Record<string, string> | undefined), accept: "application/json", ...headers },
    };
  }

  /** One API call answered with JSON; `verb` is what the request counter records. */
  async request<T>(verb: string, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const text = await this.send(verb, method, path, body, contentType);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /** One GET answered with text (pod logs). */
  async requestText(verb: string, path: string): Promise<string> {
    return this.send(verb, "GET", path);
  }

  private async send(verb: string, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<string> {
    await this.limiter.take();
    this.requests.add(verb);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const opts = await this.options(method, path, payload ? { "content-type": contentType, "content-length": String(payload.length) } : {});
    const send = this.server.protocol === "https:" ? httpsRequest : httpRequest;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", (e) => reject(kubeTransportError(method, path, e)));
      if (payload) req.write(payload);
      req.end();
    });
    if (status >= 200 && status < 300) return text;
    let parsed: KubeStatusBody = {};
    try {
      parsed = JSON.parse(text) as KubeStatusBody;
    } catch {
      parsed = { message: text.slice(0, 500) };
    }
    throw new KubeApiError(method, path, status, parsed);
  }

  async get<T extends KubeObject = KubeObject>(rt: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>("GET", "GET", resourcePath(rt, namespace, name));
  }

  async list<T extends KubeObject = KubeObject>(rt: ResourceType, options: { namespace?: string; labelSelector?: string } = {}): Promise<ListResult<T>> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    const q = query.toString();
    const out = await this.request<{ items: Array<Omit<T, "apiVersion" | "kind">>; metadata: { resourceVersion: string } }>(
      "LIST",
      "GET",
      resourcePath(rt, options.namespace) + (q ? `?${q}` : ""),
    );
    // List items come without apiVersion and kind.
    return { items: out.items.map((i) => ({ apiVersion: apiVersionOf(rt), kind: rt.kind, ...i }) as T), resourceVersion: out.metadata.resourceVersion };
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const rt = this.typeOf(obj);
    return this.request<T>("CREATE", "POST", resourcePath(rt, obj.metadata.namespace), obj);
  }

  /** Server-side apply of the fields in `obj` (field manager `kne`, conflicts forced: we own them). */
  async apply<T extends KubeObject>(obj: KubeObject, options: { subresource?: "status"; fieldManager?: string } = {}): Promise<T> {
    const rt = this.typeOf(obj);
    const q = `?fieldManager=${encodeURIComponent(options.fieldManager ?? FIELD_MANAGER)}&force=true`;
    return this.request<T>("APPLY", "PATCH", resourcePath(rt, obj.metadata.namespace, obj.metadata.name, options.subresource) + q, obj, "application/apply-patch+yaml");
  }

  /** A JSON merge patch (for fields another writer shares, like metadata.finalizers). */
  async mergePatch<T extends KubeObject = KubeObject>(rt: ResourceType, namespace: string | undefined, name: string, patch: unknown, subresource?: string): Promise<T> {
    return this.request<T>("PATCH", "PATCH", resourcePath(rt, namespace, name, subresource), patch, "application/merge-patch+json");
  }

  /** A JSON patch (RFC 6902); `test` operations make it conditional. */
  async jsonPatch<T extends KubeObject = KubeObject>(rt: ResourceType, namespace: string | undefined, name: string, ops: unknown[]): Promise<T> {
    return this.request<T>("PATCH", "PATCH", resourcePath(rt, namespace, name), ops, "application/json-patch+json");
  }

  async delete(rt: ResourceType, namespace: string | undefined, name: string, options: { propagationPolicy?: "Background" | "Foreground" | "Orphan" } = {}): Promise<void> {
    await this.request("DELETE", "DELETE", resourcePath(rt, namespace, name), { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: options.propagationPolicy ?? "Background" });
  }

  /**
   * Streams watch events from `resourceVersion` until the server ends the stream (its
   * timeout), the signal aborts, or the connection fails (rejects). Bookmarks included.
   */
  async watch<T extends KubeObject>(rt: ResourceType, options: { namespace?: string; labelSelector?: string; resourceVersion: string; timeoutSeconds?: number }, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    const query = new URLSearchParams({ watch: "1", allowWatchBookmarks: "true", resourceVersion: options.resourceVersion, timeoutSeconds: String(options.timeoutSeconds ?? 290) });
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    const path = `${resourcePath(rt, options.namespace)}?${query}`;
    await this.limiter.take();
    this.requests.add("WATCH");
    const opts = await this.options("GET", path, {});
    const send = this.server.protocol === "https:" ? httpsRequest : httpRequest;
    await new Promise<void>((resolve, reject) => {
      if (signal.aborted) return resolve();
      const req = send({ ...opts, signal }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            let body: KubeStatusBody = {};
            try {
              body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as KubeStatusBody;
            } catch {
              /* not JSON: the status alone says enough */
            }
            reject(new KubeApiError("WATCH", path, res.statusCode ?? 0, body));
          });
          return;
        }
        let pending = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          pending += chunk;
          let nl: number;
          while ((nl = pending.indexOf("\n")) >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line === "") continue;
            const event = JSON.parse(line) as WatchEvent<T>;
            if (event.type === "ERROR") {
              const status = event.object as unknown as { code?: number } & KubeStatusBody;
              req.destroy();
              reject(new KubeApiError("WATCH", path, status.code ?? 500, status));
              return;
            }
            onEvent(event);
          }
        });
        res.on("end", () => resolve());
        res.on("error", (e) => (signal.aborted ? resolve() : reject(kubeTransportError("WATCH", path, e))));
      });
      req.on("error", (e) => (signal.aborted ? resolve() : reject(kubeTransportError("WATCH", path, e))));
      req.end();
    });
  }
}
