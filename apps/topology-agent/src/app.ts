import type { Interceptor } from "@connectrpc/connect";
import { ClusterWiring, agentQuietMethods, createAgentService, installCniPlugin, installNodeRuntime, type AgentService, type AgentServiceOptions } from "@kne/agent";
import { KubeClient } from "@kne/kube";
import { agentv1 } from "@kne/proto";
import { serviceRegistration, startServer, type RunningServer, type ServerCommand } from "@kne/rpc";
import type { Logger } from "@kne/telemetry";
import type { ClusterFlags } from "./agent-flags";

export const topologyAgentCommand: ServerCommand = {
  name: "topology-agent",
  description:
    "The KNE topology agent, one per host: creates and maintains the wires of topologies " +
    "(veth, VXLAN, LAN segments, host attachments), their link state and impairments, and reports " +
    "interfaces and counters. Its desired state survives restarts in --state-dir; on start it " +
    "converges the kernel to it.",
  defaultPort: 50052,
  services: [agentv1.AgentService.typeName],
};

export interface TopologyAgentAppOptions extends Omit<AgentServiceOptions, "logger"> {
  port: number;
  host?: string;
  logger: Logger;
  interceptors?: Interceptor[];
  shutdownGraceMs?: number;
  cluster?: ClusterFlags;
}

export interface TopologyAgentApp extends RunningServer {
  readonly agent: AgentService;
}

/**
 * Starts the topology agent: loads its persisted desired state (the passes that converge it
 * run in the background, ahead of any request for the same topology), then serves
 * AgentService with health and reflection. `close()` stops serving, then the agent.
 */
export async function createTopologyAgentApp(options: TopologyAgentAppOptions): Promise<TopologyAgentApp> {
  const { port, host, logger, interceptors, shutdownGraceMs, cluster, ...agentOptions } = options;
  const agent = createAgentService({ ...agentOptions, logger });
  await agent.start();
  let wiring: ClusterWiring | undefined;
  let kube: KubeClient | undefined;
  if (cluster) {
    try {
      if (cluster.cniBinDir && cluster.cniConfDir) {
        const nodePath = cluster.cniRuntimeDir ? installNodeRuntime(cluster.cniRuntimeDir) : process.execPath;
        const report = installCniPlugin({ binDir: cluster.cniBinDir, confDir: cluster.cniConfDir, handoffDir: cluster.handoffDir, nodePath });
        logger.info({ plugin: report.pluginPath, conflist: report.conflistPath, changed: report.changed }, "CNI plugin installed");
      }
      kube = new KubeClient(cluster.kubeconfig ? { kubeconfigPath: cluster.kubeconfig } : {});
      wiring = new ClusterWiring({ agent, kube, nodeName: cluster.nodeName, handoffDir: cluster.handoffDir, logger, resyncIntervalMs: agentOptions.resyncIntervalMs });
      wiring.start();
      logger.info({ node: cluster.nodeName, handoffDir: cluster.handoffDir }, "cluster mode started");
    } catch (err) {
      await wiring?.stop();
      kube?.close();
      await agent.stop();
      throw err;
    }
  }
  let server: RunningServer;
  try {
    server = await startServer({
      port,
      host,
      logger,
      interceptors,
      shutdownGraceMs,
      services: [serviceRegistration(agentv1.AgentService, agent.impl)],
      quietMethods: agentQuietMethods,
    });
  } catch (err) {
    await wiring?.stop();
    kube?.close();
    await agent.stop();
    throw err;
  }
  return {
    port: server.port,
    url: server.url,
    health: server.health,
    agent,
    async close() {
      await server.close();
      await wiring?.stop();
      kube?.close();
      await agent.stop();
    },
  };
}
