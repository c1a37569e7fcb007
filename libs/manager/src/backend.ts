/**
 * The runtime backend: what the manager's services need from whatever runs topologies
 * (the local backend here; a kubernetes backend later). The services validate requests,
 * translate errors and shape answers once; a backend makes and observes things.
 *
 * Topologies handed to a backend are valid (the service layer ran `validateTopology`) and
 * carry their config files inline (`config.data`).
 */
import type { managerv1, topo } from "@kne/proto";

/** A topology as the backend runs it: the resolved spec and its observed status. */
export interface TopologyView {
  topology: topo.Topology;
  status: managerv1.TopologyStatus;
}

/** Progress of a long operation, per node (what `kne create` shows while it waits). */
export interface ProgressEvent {
  topology: string;
  node?: string;
  phase: string;
  message?: string;
}

export interface CreateOptions {
  dryRun?: boolean;
  /** Fail when not every node is ready by then (default 5 minutes). */
  timeoutMs?: number;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  /** Image pull secrets of this topology's pods (kubernetes backend), besides the backend's own. */
  imagePullSecrets?: string[];
  /** Host port forwards of the nodes' services. */
  forwarding?: ServiceForwarding;
}

/** Host port forwards of node services (CreateTopologyRequest.forward_services). */
export interface ServiceForwarding {
  /** Every service of every node; otherwise only the services whose topology sets a node_port. */
  all: boolean;
  /** The host address forwards listen on (default 127.0.0.1). */
  address?: string;
}

/** A node's self-signed certificate, as generated and written for it. */
export interface NodeCertificate {
  certificatePem: Uint8Array;
  /** Where the node finds its certificate and key, when the backend wrote them. */
  certificatePath?: string;
  keyPath?: string;
}

export interface UpdateResult {
  view: TopologyView;
  changes: managerv1.Change[];
}

export interface ExecRequest {
  argv: string[];
  stdin?: Uint8Array;
  timeoutMs?: number;
  /** The caller went away (cancelled, or its deadline passed): the command is killed. */
  signal?: AbortSignal;
}

export interface ExecOutcome {
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
}

/** A command running in a node with its input and output streamed (ExecStream). */
export interface ExecSession {
  /** Passes bytes to the command's standard input. */
  write(data: Uint8Array): void;
  closeStdin(): void;
  /** Output as it is written; the last chunk has the exit code. */
  output: AsyncIterable<ExecChunk>;
}

export interface ExecChunk {
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  exitCode?: number;
}

export interface LogsRequest {
  /** Only the last lines (0: everything). */
  tailLines?: number;
}

/** Impairments per direction; undefined clears that direction. */
export interface LinkImpairments {
  aToZ?: topo.Impairments;
  zToA?: topo.Impairments;
}

export interface RuntimeBackend {
  /** "local" or "kubernetes": reported in TopologyStatus.backend. */
  readonly name: string;

  createTopology(topology: topo.Topology, options?: CreateOptions): Promise<TopologyView>;
  deleteTopology(name: string, options?: { onProgress?: (event: ProgressEvent) => void }): Promise<void>;
  getTopology(name: string): Promise<TopologyView>;
  listTopologies(): Promise<TopologyView[]>;
  /** Adds and removes nodes and links of a running topology, touching nothing else. */
  updateTopology(desired: topo.Topology, options?: { dryRun?: boolean; timeoutMs?: number; onProgress?: (event: ProgressEvent) => void }): Promise<UpdateResult>;

  listLinks(topology: string, node?: string): Promise<managerv1.LinkInfo[]>;
  setLinkState(topology: string, link: string, state: topo.LinkState, endpoint?: string): Promise<managerv1.LinkInfo>;
  setLinkImpairments(topology: string, link: string, impairments: LinkImpairments): Promise<managerv1.LinkInfo>;

  listNodes(topology: string): Promise<Array<{ node: topo.Node; status: managerv1.NodeStatus }>>;
  execCommand(topology: string, node: string, request: ExecRequest): Promise<ExecOutcome>;
  /** Starts a command with streamed input and output; killed when the signal aborts. Absent: UNIMPLEMENTED. */
  execStream?(topology: string, node: string, request: { argv: string[]; timeoutMs?: number }, signal: AbortSignal): Promise<ExecSession>;
  nodeLogs(topology: string, node: string, request?: LogsRequest): Promise<string>;
  pushConfig(topology: string, node: string, config: Uint8Array): Promise<void>;
  /** Every node when `node` is undefined; `push` pushes the boot config again afterwards. */
  resetConfig(topology: string, node: string | undefined, push: boolean): Promise<void>;
  saveConfig(topology: string, node: string): Promise<Uint8Array>;
  /** Generates the node's self-signed certificate from its `config.cert`; absent: UNIMPLEMENTED. */
  generateCertificate?(topology: string, node: string): Promise<NodeCertificate>;
  listServices(topology: string): Promise<managerv1.ServiceEndpoint[]>;

  /** Status snapshots of one topology (or all), as they change, until the signal aborts. */
  watchTopologies(name: string | undefined, signal: AbortSignal): AsyncIterable<managerv1.TopologyEvent>;
  /** Link snapshots as they change, until the signal aborts. */
  watchLinks(topology: string, link: string | undefined, signal: AbortSignal): AsyncIterable<managerv1.LinkInfo>;

  close(): Promise<void>;
}
