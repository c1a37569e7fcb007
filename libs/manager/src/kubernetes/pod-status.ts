/**
 * A node's state from its pods, as Kubernetes reports them: Ready means the pod's Ready
 * condition (not just Running, upstream PR #747); a node is Failed when a pod cannot start
 * for a reason waiting will not fix soon (image pull errors, crash loops, a failed pod),
 * and Pending with the scheduler's reason (Insufficient cpu, …) while it is not placed.
 */
import type { KubeObject } from "@kne/kube";
import type { NodePhaseName, NodeStatusJson } from "./topology-objects.ts";

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number; message?: string } };
}

export interface PodJson extends KubeObject {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    reason?: string;
    message?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

const failingWaitReasons = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"]);

export interface PodVerdict {
  phase: NodePhaseName;
  message: string;
}

/** The verdict on one pod. */
export function podVerdict(pod: PodJson): PodVerdict {
  const name = pod.metadata.name;
  if (pod.metadata.deletionTimestamp) return { phase: "Stopped", message: `pod ${name} is being deleted` };
  const s = pod.status ?? {};
  if (s.phase === "Failed") return { phase: "Failed", message: `pod ${name} failed: ${s.reason ?? ""} ${s.message ?? ""}`.trim() };
  if (s.phase === "Succeeded") return { phase: "Stopped", message: `pod ${name} exited` };
  for (const c of [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])]) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && failingWaitReasons.has(waiting.reason)) {
      return { phase: "Failed", message: `pod ${name} container ${c.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}` };
    }
  }
  const ready = s.conditions?.find((c) => c.type === "Ready");
  if (ready?.status === "True") return { phase: "Ready", message: "" };
  const scheduled = s.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False") return { phase: "Pending", message: `pod ${name} not scheduled: ${scheduled.message ?? scheduled.reason ?? "no reason given"}` };
  if (s.phase === "Running") return { phase: "Starting", message: `pod ${name} running, not ready${ready?.message ? `: ${ready.message}` : ""}` };
  return { phase: "Pending", message: `pod ${name} ${s.phase ?? "not started"}${s.message ? `: ${s.message}` : ""}` };
}

const rank: Record<NodePhaseName, number> = { Failed: 0, Stopped: 1, Pending: 2, Starting: 3, Ready: 4 };

/** A node's status from its pods: the worst pod decides; fewer pods than expected is Pending. */
export function nodeStatusFromPods(node: string, pods: readonly PodJson[], expectedPods: number): NodeStatusJson {
  const first = [...pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0];
  const base: NodeStatusJson = { name: node, phase: "Pending" };
  if (first?.status?.podIP) base.podIP = first.status.podIP;
  if (first?.spec?.nodeName) base.host = first.spec.nodeName;
  const restarts = pods.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0);
  if (restarts > 0) base.restarts = restarts;
  if (pods.length === 0) return { ...base, message: "no pod yet" };
  let worst: PodVerdict = { phase: "Ready", message: "" };
  for (const p of pods) {
    const v = podVerdict(p);
    if (rank[v.phase] < rank[worst.phase]) worst = v;
  }
  if (worst.phase === "Ready" && pods.length < expectedPods) return { ...base, phase: "Pending", message: `${pods.length} of ${expectedPods} pods exist` };
  return { ...base, phase: worst.phase, ...(worst.message ? { message: worst.message } : {}) };
}

/** Whether a pod carries every label of a selector. */
export function matchesSelector(obj: KubeObject, selector: Readonly<Record<string, string>>): boolean {
  const labels = obj.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
