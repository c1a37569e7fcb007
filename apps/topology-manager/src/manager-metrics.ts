/**
 * The manager's own metrics, observed when scraped (or pushed): topologies, nodes and links
 * the backend runs, by phase, and the watch hub's streams and watchers. RPC latency and
 * reconcile durations are recorded as they happen (`@kne/telemetry`, `@kne/manager`).
 */
import type { Meter } from "@opentelemetry/api";
import type { RuntimeBackend, WatchHub } from "@kne/manager";
import { managerv1 } from "@kne/proto";
import type { Logger } from "@kne/telemetry";

export function observeManager(meter: Meter, backend: RuntimeBackend, hub: WatchHub, logger: Logger): void {
  const topologies = meter.createObservableGauge("kne.topologies", { description: "Topologies the manager runs, by phase" });
  const nodes = meter.createObservableGauge("kne.nodes", { description: "Nodes of all topologies, by phase" });
  const links = meter.createObservableGauge("kne.links", { description: "Links of all topologies" });
  const watchers = meter.createObservableGauge("kne.watch.watchers", { description: "Clients watching topologies or links" });
  const streams = meter.createObservableGauge("kne.watch.streams", { description: "Backend subscriptions shared by the watchers" });
  const overflowed = meter.createObservableCounter("kne.watch.overflows", { description: "Watchers ended for falling too far behind" });
  meter.addBatchObservableCallback(
    async (result) => {
      const byPhase = new Map<string, number>();
      const nodesByPhase = new Map<string, number>();
      let linkCount = 0;
      try {
        for (const view of await backend.listTopologies()) {
          const phase = managerv1.TopologyPhase[view.status.phase] ?? "UNSPECIFIED";
          byPhase.set(phase, (byPhase.get(phase) ?? 0) + 1);
          for (const n of view.status.nodes) {
            const p = managerv1.NodePhase[n.phase] ?? "UNSPECIFIED";
            nodesByPhase.set(p, (nodesByPhase.get(p) ?? 0) + 1);
          }
          linkCount += view.topology.links.length;
        }
      } catch (err) {
        // A scrape must not fail because one topology's state could not be read.
        logger.warn({ err }, "topology metrics not observed");
      }
      for (const phase of Object.values(managerv1.TopologyPhase).filter((v): v is string => typeof v === "string")) {
        result.observe(topologies, byPhase.get(phase) ?? 0, { phase });
      }
      for (const [phase, count] of nodesByPhase) result.observe(nodes, count, { phase });
      if (nodesByPhase.size === 0) result.observe(nodes, 0, { phase: "READY" });
      result.observe(links, linkCount);
      const stats = hub.current();
      result.observe(watchers, stats.watchers);
      result.observe(streams, stats.streams);
      result.observe(overflowed, stats.overflowed);
    },
    [topologies, nodes, links, watchers, streams, overflowed],
  );
}
