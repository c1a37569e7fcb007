/**
 * The manager's gRPC services, implemented once over a `RuntimeBackend`:
 * `kne.manager.v1` TopologyService, LinkService and NodeService, and upstream KNE's
 * `controller.TopologyManager`. Here requests are checked (a topology is validated
 * completely, with field violations, before the backend makes anything), config files are
 * inlined, answers are shaped, and every error leaves with its gRPC code.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { clone, create, type DescService } from "@bufbuild/protobuf";
import { type Duration, timestampNow } from "@bufbuild/protobuf/wkt";
import { type ConnectRouter, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { controller, managerv1, topo } from "@kne/proto";
import { type ServiceRegistration, serviceRegistration } from "@kne/rpc";
import { TopologyValidationError, resolveConfigPath, validateTopology } from "@kne/topology";
import type { RuntimeBackend } from "./backend.ts";
import { ManagerError, guarded, toManagerConnectError } from "./errors.ts";
import { endpointRef } from "./link-ref.ts";

export interface ManagerServices {
  topology: ServiceImpl<typeof managerv1.TopologyService>;
  link: ServiceImpl<typeof managerv1.LinkService>;
  node: ServiceImpl<typeof managerv1.NodeService>;
  controller: ServiceImpl<typeof controller.TopologyManager>;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

function required(value: string, field: string): string {
  if (value.trim() === "") throw new ManagerError("INVALID_ARGUMENT", `${field} is required`, [{ field, description: "is required" }]);
  return value;
}

function durationMs(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
  return ms > 0 ? ms : undefined;
}

/** The smaller of the request's timeout and the call's deadline (less a margin to answer in). */
function effectiveTimeout(requested: number | undefined, ctx: HandlerContext): number {
  const deadline = ctx.timeoutMs();
  const base = requested ?? DEFAULT_TIMEOUT_MS;
  return deadline !== undefined ? Math.max(1000, Math.min(base, deadline - 1500)) : base;
}

/**
 * Validates a topology from a request (every problem, as field violations under `field`)
 * and returns a copy with config files inlined: `config.file` is read relative to `baseDir`.
 */
export async function prepareTopology(topology: topo.Topology | undefined, baseDir: string, field = "topology"): Promise<topo.Topology> {
  if (!topology) throw new ManagerError("INVALID_ARGUMENT", `${field} is required`, [{ field, description: "is required" }]);
  const result = validateTopology(topology, baseDir !== "" ? { baseDir } : {});
  if (result.errors.length > 0) throw new TopologyValidationError(result.errors);
  const out = clone(topo.TopologySchema, topology);
  for (const node of out.nodes) {
    const data = node.config?.configData;
    if (data?.case !== "file") continue;
    const at = `${field}.nodes[${node.name}].config.file`;
    if (baseDir === "" && !isAbsolute(data.value)) {
      throw new ManagerError("INVALID_ARGUMENT", `node ${node.name}: config file ${data.value} is relative and the request has no base_dir; send the config inline (config.data)`, [
        { field: at, description: "relative path without base_dir" },
      ]);
    }
    const path = resolveConfigPath(baseDir, data.value);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new ManagerError("INVALID_ARGUMENT", `node ${node.name}: cannot read config file ${path}: ${(err as Error).message}`, [{ field: at, description: "cannot be read" }]);
    }
    node.config!.configData = { case: "data", value: new Uint8Array(bytes) };
  }
  return out;
}

export function createManagerServices(backend: RuntimeBackend): ManagerServices {
  const topologyService: ServiceImpl<typeof managerv1.TopologyService> = {
    createTopology: (req, ctx) =>
      guarded(async () => {
        const topology = await prepareTopology(req.topology, req.baseDir);
        const view = await backend.createTopology(topology, { dryRun: req.dryRun, timeoutMs: effectiveTimeout(durationMs(req.timeout), ctx), signal: ctx.signal });
        return { topology: view.topology, status: view.status };
      }),
    getTopology: (req) =>
      guarded(async () => {
        const view = await backend.getTopology(required(req.name, "name"));
        return { topology: view.topology, status: view.status };
      }),
    listTopologies: () =>
      guarded(async () => ({
        topologies: (await backend.listTopologies()).map((v) =>
          create(managerv1.TopologySummarySchema, { name: v.topology.name, status: v.status, nodeCount: v.topology.nodes.length, linkCount: v.topology.links.length }),
        ),
      })),
    deleteTopology: (req) =>
      guarded(async () => {
        await backend.deleteTopology(required(req.name, "name"));
        return {};
      }),
    updateTopology: (req, ctx) =>
      guarded(async () => {
        const topology = await prepareTopology(req.topology, req.baseDir);
        const result = await backend.updateTopology(topology, { dryRun: req.dryRun, timeoutMs: effectiveTimeout(durationMs(req.timeout), ctx) });
        return { topology: result.view.topology, status: result.view.status, changes: result.changes };
      }),
    async *watchTopologies(req, ctx) {
      try {
        for await (const event of backend.watchTopologies(req.name || undefined, ctx.signal)) {
          if (event.revision <= req.afterRevision) continue;
          yield { event };
        }
      } catch (err) {
        if (!ctx.signal.aborted) throw toManagerConnectError(err);
      }
    },
    listServices: (req) => guarded(async () => ({ endpoints: await backend.listServices(required(req.topology, "topology")) })),
  };

  const findLinkInfo = async (topology: string, ref: string): Promise<managerv1.LinkInfo> => {
    const links = await backend.listLinks(required(topology, "topology"));
    const want = required(ref, "link").trim();
    const found = links.find((l) => {
      const a = l.a?.endpoint ? endpointRef(l.a.endpoint.node, l.a.endpoint.interface) : "";
      const z = l.z?.endpoint ? endpointRef(l.z.endpoint.node, l.z.endpoint.interface) : "";
      return l.id === want || `${z}--${a}` === want || a === want || z === want;
    });
    if (!found) throw new ManagerError("NOT_FOUND", `topology ${topology} has no link ${JSON.stringify(want)}; its links: ${links.map((l) => l.id).join(", ") || "none"}`);
    return found;
  };

  const linkService: ServiceImpl<typeof managerv1.LinkService> = {
    getLink: (req) => guarded(async () => ({ link: await findLinkInfo(req.topology, req.link) })),
    listLinks: (req) => guarded(async () => ({ links: await backend.listLinks(required(req.topology, "topology"), req.node || undefined) })),
    setLinkState: (req) =>
      guarded(async () => ({ link: await backend.setLinkState(required(req.topology, "topology"), required(req.link, "link"), req.state, req.endpoint || undefined) })),
    setLinkImpairments: (req) =>
      guarded(async () => ({
        link: await backend.setLinkImpairments(required(req.topology, "topology"), required(req.link, "link"), {
          ...(req.aToZ ? { aToZ: req.aToZ } : {}),
          ...(req.zToA ? { zToA: req.zToA } : {}),
        }),
      })),
    async *watchLinks(req, ctx) {
      try {
        required(req.topology, "topology");
        let revision = 0n;
        for await (const link of backend.watchLinks(req.topology, req.link || undefined, ctx.signal)) {
          revision++;
          if (revision <= req.afterRevision) continue;
          yield { revision, link, time: timestampNow() };
        }
      } catch (err) {
        if (!ctx.signal.aborted) throw toManagerConnectError(err);
      }
    },
  };

  const nodeService: ServiceImpl<typeof managerv1.NodeService> = {
    getNode: (req) =>
      guarded(async () => {
        const nodes = await backend.listNodes(required(req.topology, "topology"));
        const found = nodes.find((n) => n.node.name === required(req.node, "node"));
        if (!found) throw new ManagerError("NOT_FOUND", `topology ${req.topology} has no node ${req.node}`);
        return found;
      }),
    listNodes: (req) => guarded(async () => ({ nodes: (await backend.listNodes(required(req.topology, "topology"))).map((n) => create(managerv1.GetNodeResponseSchema, n)) })),
    pushConfig: (req) =>
      guarded(async () => {
        await backend.pushConfig(required(req.topology, "topology"), required(req.node, "node"), req.config);
        return {};
      }),
    resetConfig: (req) =>
      guarded(async () => {
        await backend.resetConfig(required(req.topology, "topology"), req.node || undefined, req.push);
        return {};
      }),
    saveConfig: (req) => guarded(async () => ({ config: await backend.saveConfig(required(req.topology, "topology"), required(req.node, "node")) })),
    generateCertificate: (req) =>
      guarded(async () => {
        required(req.topology, "topology");
        throw new ManagerError(
          "UNIMPLEMENTED",
          `certificates are not generated on the ${backend.name} backend: its nodes (FRR, GoBGP, BIRD, hosts) serve no TLS endpoints that need one`,
        );
      }),
    execCommand: (req) =>
      guarded(async () => {
        const out = await backend.execCommand(required(req.topology, "topology"), required(req.node, "node"), {
          argv: req.command,
          ...(req.stdin.length > 0 ? { stdin: req.stdin } : {}),
          ...(req.timeoutMs > 0 ? { timeoutMs: req.timeoutMs } : {}),
        });
        return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
      }),
    getNodeLogs: (req) =>
      guarded(async () => ({
        logs: new TextEncoder().encode(await backend.nodeLogs(required(req.topology, "topology"), required(req.node, "node"), { tailLines: req.tailLines })),
      })),
  };

  const clusterless = (method: string) => () =>
    guarded(async () => {
      throw new ManagerError(
        "UNIMPLEMENTED",
        `${method} is not served here: this topology manager runs topologies on the ${backend.name} backend and manages no cluster. ` +
          "Use CreateTopology/DeleteTopology/ShowTopology (or kne.manager.v1.TopologyService); to run in Kubernetes, install the topology-manager into the cluster with its Helm chart",
      );
    });
  const controllerState = (phase: managerv1.TopologyPhase): controller.TopologyState => {
    switch (phase) {
      case managerv1.TopologyPhase.RUNNING:
        return controller.TopologyState.RUNNING;
      case managerv1.TopologyPhase.ERROR:
        return controller.TopologyState.ERROR;
      case managerv1.TopologyPhase.UNSPECIFIED:
        return controller.TopologyState.UNSPECIFIED;
      default:
        return controller.TopologyState.CREATING;
    }
  };

  const controllerService: ServiceImpl<typeof controller.TopologyManager> = {
    createTopology: (req, ctx) =>
      guarded(async () => {
        const topology = await prepareTopology(req.topology, "");
        const view = await backend.createTopology(topology, { timeoutMs: effectiveTimeout(undefined, ctx), signal: ctx.signal });
        return { topologyName: view.topology.name, state: controllerState(view.status.phase), topology: view.topology };
      }),
    deleteTopology: (req) =>
      guarded(async () => {
        await backend.deleteTopology(required(req.topologyName, "topology_name"));
        return {};
      }),
    showTopology: (req) =>
      guarded(async () => {
        const view = await backend.getTopology(required(req.topologyName, "topology_name"));
        return { state: controllerState(view.status.phase), topology: view.topology };
      }),
    pushConfig: (req) =>
      guarded(async () => {
        await backend.pushConfig(required(req.topologyName, "topology_name"), required(req.deviceName, "device_name"), req.config);
        return {};
      }),
    resetConfig: (req) =>
      guarded(async () => {
        await backend.resetConfig(required(req.topologyName, "topology_name"), required(req.deviceName, "device_name"), false);
        return {};
      }),
    createCluster: clusterless("CreateCluster"),
    deleteCluster: clusterless("DeleteCluster"),
    showCluster: clusterless("ShowCluster"),
    applyCluster: clusterless("ApplyCluster"),
    joinCluster: clusterless("JoinCluster"),
  };

  return { topology: topologyService, link: linkService, node: nodeService, controller: controllerService };
}

/** The services as `startServer` takes them. */
export function managerRegistrations(services: ManagerServices): ServiceRegistration[] {
  return [
    serviceRegistration(managerv1.TopologyService, services.topology),
    serviceRegistration(managerv1.LinkService, services.link),
    serviceRegistration(managerv1.NodeService, services.node),
    serviceRegistration(controller.TopologyManager, services.controller),
  ];
}

/** Registers the services on a Connect router (in-process transport). */
export function registerManagerServices(router: ConnectRouter, services: ManagerServices): void {
  const pairs: Array<[DescService, object]> = [
    [managerv1.TopologyService, services.topology],
    [managerv1.LinkService, services.link],
    [managerv1.NodeService, services.node],
    [controller.TopologyManager, services.controller],
  ];
  for (const [desc, impl] of pairs) router.service(desc, impl as never);
}

