import { describe, expect, it } from "vitest";
import { nodeStatusFromPods, podVerdict, type PodJson } from "./pod-status.ts";

const pod = (name: string, status: PodJson["status"], extra: Partial<PodJson["metadata"]> = {}): PodJson => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, ...extra },
  spec: { nodeName: "host-1" },
  status,
});

describe("a node's state from its pods", () => {
  it("is Ready only with the Ready condition, not merely Running", () => {
    expect(podVerdict(pod("r1", { phase: "Running", conditions: [{ type: "Ready", status: "False", message: "containers with unready status: [r1]" }] }))).toEqual({
      phase: "Starting",
      message: "pod r1 running, not ready: containers with unready status: [r1]",
    });
    expect(podVerdict(pod("r1", { phase: "Running", conditions: [{ type: "Ready", status: "True" }] })).phase).toBe("Ready");
  });

  it("names the scheduler's reason while a pod is not placed", () => {
    const v = podVerdict(pod("r1", { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 3 Insufficient cpu." }] }));
    expect(v).toEqual({ phase: "Pending", message: "pod r1 not scheduled: 0/3 nodes are available: 3 Insufficient cpu." });
  });

  it("fails on image pull errors and crash loops, naming the container", () => {
    const v = podVerdict(pod("r1", { phase: "Pending", containerStatuses: [{ name: "r1", state: { waiting: { reason: "ImagePullBackOff", message: "Back-off pulling image \"ceos:latest\"" } } }] }));
    expect(v.phase).toBe("Failed");
    expect(v.message).toBe('pod r1 container r1: ImagePullBackOff: Back-off pulling image "ceos:latest"');
    expect(podVerdict(pod("r1", { phase: "Running", initContainerStatuses: [{ name: "init-r1", state: { waiting: { reason: "CrashLoopBackOff" } } }] })).phase).toBe("Failed");
  });

  it("takes the worst pod, and fewer pods than expected as Pending", () => {
    const ready = pod("otg-controller", { phase: "Running", podIP: "198.19.0.5", conditions: [{ type: "Ready", status: "True" }], containerStatuses: [{ name: "c", restartCount: 2 }] });
    const pending = pod("otg-port-eth1", { phase: "Pending" });
    expect(nodeStatusFromPods("otg", [ready, pending], 2)).toMatchObject({ name: "otg", phase: "Pending", message: "pod otg-port-eth1 Pending", podIP: "198.19.0.5", host: "host-1", restarts: 2 });
    expect(nodeStatusFromPods("otg", [ready], 2)).toMatchObject({ phase: "Pending", message: "1 of 2 pods exist" });
    expect(nodeStatusFromPods("otg", [], 1)).toMatchObject({ phase: "Pending", message: "no pod yet" });
    expect(nodeStatusFromPods("r1", [pod("r1", { phase: "Running" }, { deletionTimestamp: "2026-01-01T00:00:00Z" })], 1).phase).toBe("Stopped");
  });
});
