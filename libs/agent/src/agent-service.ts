/**
 * `kne.agent.v1.AgentService` over the data plane: checks each request (field paths in
 * errors), hands it to the topology reconciler, and translates every failure once
 * (`toAgentConnectError`). The lifecycle (`start`, `stop`) loads and converges the persisted
 * state and releases processes and connections.
 */
import { hostname, release } from "node:os";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  ApplyError,
  InvalidArgumentError,
  type ObservedInterface,
  mapLimit,
  readInterfaces,
  validateIfname,
  validateIpAddress,
  validateNodeName,
  validateTopologyId,
  validateUid,
} from "@kne/dataplane";
import { agentv1, topo } from "@kne/proto";
import { type AgentServiceOptions, type ResolvedAgentOptions, resolveAgentOptions } from "./agent-options.ts";
import { checkImpairments, impairmentsFromProto } from "./desired-wires.ts";
import { AgentError, toAgentConnectError } from "./errors.ts";
import { interfaceState, watchInterfaces } from "./interface-watch.ts";
import { LinkStateSessions } from "./link-state-sessions.ts";
import { type PeerClients, createPeerClients } from "./peer-clients.ts";
import { StateStore } from "./state-store.ts";
import { type PassOutcome, TopologyReconciler } from "./topology-reconciler.ts";

export type AgentServiceImpl = ServiceImpl<typeof agentv1.AgentService>;

export interface AgentService {
  readonly service: typeof agentv1.AgentService;
  /** The Connect implementation, for `serviceRegistration` or `createRouterTransport`. */
  readonly impl: AgentServiceImpl;
  readonly options: ResolvedAgentOptions;
  /**
   * Reads the persisted desired state and starts converging every topology in it (and the
   * periodic resync). Resolves once the state is loaded; `converged()` waits for the passes.
   */
  start(): Promise<void>;
  /** Resolves when no pass or request is queued or running. */
  converged(): Promise<void>;
  /**
   * In-process callers that derive the desired state themselves (the cluster mode's wiring
   * from Link objects): the same checks, persistence and passes as ApplyWires and
   * DeleteTopology, without a transport.
   */
  applyWires(request: agentv1.ApplyWiresRequest): Promise<agentv1.ApplyWiresResponse>;
  deleteTopology(topology: string): Promise<number>;
  /** The desired state last accepted for a topology, undefined when there is none. */
  appliedRequest(topology: string): agentv1.ApplyWiresRequest | undefined;
  /** The topologies in the persisted desired state. */
  topologies(): string[];
  /** Stops the loop, waits for running work, closes helper processes and peer connections. */
  stop(): Promise<void>;
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toAgentConnectError(err);
  }
}

function outcomeError(outcome: PassOutcome, peerFailures: readonly string[]): ConnectError | undefined {
  if (outcome.errors.length > 0) {
    const err = toAgentConnectError(outcome.errors.length === 1 ? outcome.errors[0] : new ApplyError(outcome.errors));
    return new ConnectError(`the desired state was accepted (generation ${outcome.generation}) but did not converge yet; the agent retries: ${err.rawMessage}`, err.code, undefined, undefined, err);
  }
  if (peerFailures.length > 0) {
    return new ConnectError(
      `local wires converged (generation ${outcome.generation}); peer agents were not reached, the agent retries: ${peerFailures.join("; ")}`,
      Code.Unavailable,
    );
  }
  if (outcome.pending.length > 0) {
    return new ConnectError(`local wires converged except: ${outcome.pending.join("; ")}`, Code.Unavailable);
  }
  return undefined;
}

function checkLinkState(state: topo.LinkState, field: string): boolean {
  if (state === topo.LinkState.UP) return true;
  if (state === topo.LinkState.DOWN) return false;
  throw new InvalidArgumentError("must be LINK_STATE_UP or LINK_STATE_DOWN", field);
}

/**
 * Calls a manager makes to an agent at a high rate and logs itself, with the same request
 * id (a link flip, an impairment, a read of interfaces): a server of the agent logs their
 * successes at debug, so a flip costs no log line twice. Failures are logged as always.
 */
export const agentQuietMethods: readonly string[] = ["SetLinkState", "SetImpairments", "GetInterfaces"].map((m) => `${agentv1.AgentService.typeName}/${m}`);

export function createAgentService(raw: AgentServiceOptions): AgentService {
  const options = resolveAgentOptions(raw);
  const { logger } = options;
  const store = new StateStore(options.stateDir, { fsync: options.fsync });
  const sessions = new LinkStateSessions();
  let ownPeers: PeerClients | undefined;
  const peerFactory =
    options.peerClientFactory ??
    ((address: string) => {
      ownPeers ??= createPeerClients();
      return ownPeers.factory(address);
    });
  const reconciler = new TopologyReconciler(options, { store, sessions, peers: peerFactory });
  let started = false;

  const impl: AgentServiceImpl = {
    applyWires: (req) =>
      guard(async () => {
        validateTopologyId(req.topology, "topology");
        const { outcome, peerFailures } = await reconciler.apply(req);
        const err = outcomeError(outcome, peerFailures);
        if (err) throw err;
        return { observedGeneration: outcome.generation, created: outcome.created, deleted: outcome.deleted, unchanged: outcome.unchanged };
      }),

    deleteTopology: (req) =>
      guard(async () => {
        validateTopologyId(req.topology, "topology");
        return { deleted: await reconciler.delete(req.topology) };
      }),

    setLinkState: (req) =>
      guard(async () => {
        validateTopologyId(req.topology, "topology");
        validateNodeName(req.node, "node");
        validateIfname(req.interface, "interface");
        const up = checkLinkState(req.state, "state");
        await reconciler.setLinkState(req.topology, req.node, req.interface, up);
        return {};
      }),

    setImpairments: (req) =>
      guard(async () => {
        validateTopologyId(req.topology, "topology");
        validateNodeName(req.node, "node");
        validateIfname(req.interface, "interface");
        const impairments = impairmentsFromProto(req.impairments) ?? {};
        checkImpairments(impairments, "impairments");
        await reconciler.setImpairments(req.topology, req.node, req.interface, impairments);
        return {};
      }),

    getInterfaces: (req) =>
      guard(async () => {
        validateTopologyId(req.topology, "topology");
        if (req.node !== "") validateNodeName(req.node, "node");
        const compiled = reconciler.compiled(req.topology);
        if (!compiled) throw new AgentError(Code.NotFound, `topology ${req.topology} has no wires on this host`);
        const endpoints = [...compiled.endpoints.values()].filter((e) => req.node === "" || e.node === req.node);
        if (req.node !== "" && endpoints.length === 0) throw new AgentError(Code.NotFound, `topology ${req.topology} has no endpoints of node ${req.node} on this host`);
        const netnsNames = [...new Set(endpoints.map((e) => e.netns))];
        const observed = new Map<string, Map<string, ObservedInterface>>();
        await mapLimit(netnsNames, 8, async (netns) => {
          const list = await readInterfaces(netns).catch(() => [] as ObservedInterface[]);
          observed.set(netns, new Map(list.map((i) => [i.ifname, i])));
        });
        return { interfaces: endpoints.map((e) => interfaceState(req.topology, e, observed.get(e.netns)?.get(e.ifname))) };
      }),

    async *watchInterfaces(req, ctx: HandlerContext) {
      try {
        validateTopologyId(req.topology, "topology");
        if (!reconciler.compiled(req.topology)) throw new AgentError(Code.NotFound, `topology ${req.topology} has no wires on this host`);
        yield* watchInterfaces(
          {
            endpoints: () => reconciler.compiled(req.topology)?.endpoints,
            subscribe: (listener) => reconciler.subscribe(req.topology, listener),
          },
          { topology: req.topology, countersIntervalMs: req.countersIntervalMs, signal: ctx.signal, now: () => options.clock.now(), logger },
        );
      } catch (err) {
        throw toAgentConnectError(err);
      }
    },

    getCapabilities: () =>
      guard(async () => {
        const features = await reconciler.kernelFeatures();
        if (!features) throw new AgentError(Code.Unavailable, "kernel features could not be probed (the agent needs root)");
        return { hostname: hostname(), kernel: release(), features: [...features.available].sort(), missing: [...features.missing].sort() };
      }),

    prepareTunnel: (req) =>
      guard(async () => {
        validateTopologyId(req.topology, "topology");
        validateUid(req.uid.toString(), "uid");
        if (!req.local) throw new InvalidArgumentError("is required", "local");
        validateNodeName(req.local.node, "local.node");
        validateIfname(req.local.interface, "local.interface");
        validateIpAddress(req.peerUnderlayAddress, "peer_underlay_address");
        if (req.vni > 0xffffff) throw new InvalidArgumentError(`VNI ${req.vni} must be in 1..16777215`, "vni");
        return create(agentv1.PrepareTunnelResponseSchema, { underlayAddress: await reconciler.prepareTunnel(req) });
      }),
  };

  return {
    service: agentv1.AgentService,
    impl,
    options,
    async start() {
      if (started) return;
      started = true;
      if (sessions.netlinkUnavailable) logger.info({ reason: sessions.netlinkUnavailable }, "link state goes through ip sessions, not netlink sockets");
      const topologies = await reconciler.load();
      // A long-lived agent probes at once, so that the first impairment does not wait for it;
      // a one-shot agent (resync off) probes only if something needs it, not during its work.
      if (options.resyncIntervalMs > 0) void reconciler.kernelFeatures();
      for (const t of topologies) {
        void reconciler.converge(t).catch((err: unknown) => logger.error({ topology: t, err }, "topology not converged at start"));
      }
      reconciler.startResync();
    },
    converged: () => reconciler.idle(),
    applyWires: (request) =>
      guard(async () => {
        validateTopologyId(request.topology, "topology");
        const { outcome, peerFailures } = await reconciler.apply(request);
        const err = outcomeError(outcome, peerFailures);
        if (err) throw err;
        return create(agentv1.ApplyWiresResponseSchema, { observedGeneration: outcome.generation, created: outcome.created, deleted: outcome.deleted, unchanged: outcome.unchanged });
      }),
    deleteTopology: (topology) =>
      guard(async () => {
        validateTopologyId(topology, "topology");
        return reconciler.delete(topology);
      }),
    appliedRequest: (topology) => reconciler.appliedRequest(topology),
    topologies: () => reconciler.topologies(),
    async stop() {
      await reconciler.close();
      store.close();
      await sessions.closeAll();
      ownPeers?.close();
      logger.info("agent stopped");
    },
  };
}
