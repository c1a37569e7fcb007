// Smoke test of the test environment: a real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) with kwok's simulated nodes. A Pod gets scheduled
// to a kwok node and becomes Ready; a CRD is installed and a custom object read back.
//
// It brings up a private environment (its own run directory) and tears it down, or reuses a
// running one when KNE_TESTENV_KUBECONFIG names its kubeconfig. KNE_SKIP_K8S=1 skips it.
import { existsSync, readFileSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireTestenv, k8sSkipReason, TESTENV_UP_TIMEOUT_MS, until, type Testenv } from "../src/index";

const skip = k8sSkipReason !== undefined;
if (skip) console.log(`testenv smoke test skipped: ${k8sSkipReason}`);

const STEP_TIMEOUT = 120_000;

// No such process, or only a zombie waiting for its parent to reap it.
function gone(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split(".").reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const [base, bits] = cidr.split("/") as [string, string];
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}

describe.skipIf(skip)("testenv: a real control plane with kwok nodes", () => {
  let env: Testenv | undefined;
  const kc = new k8s.KubeConfig();
  let core: k8s.CoreV1Api;
  const ns = `kne-smoke-${process.pid}-${Date.now() % 100000}`;

  beforeAll(async () => {
    env = await acquireTestenv("smoke");
    if (env.owned) expect(env.pids.length).toBe(5);
    expect(existsSync(env.kubeconfigPath)).toBe(true);
    kc.loadFromFile(env.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    if (core) await core.deleteNamespace({ name: ns }).catch(() => undefined);
    if (!env?.owned) return;
    const { pids, runDir } = env;
    await env.release();
    // Everything it started is gone, and so is its run directory.
    for (const pid of pids) expect(gone(pid), `pid ${pid} still running`).toBe(true);
    expect(existsSync(runDir!)).toBe(false);
  }, STEP_TIMEOUT);

  it("has Ready kwok nodes", async () => {
    const nodes = await core.listNode({ labelSelector: "type=kwok" });
    expect(nodes.items.length).toBeGreaterThanOrEqual(1);
    for (const n of nodes.items) {
      expect(n.metadata?.annotations?.["kwok.x-k8s.io/node"]).toBe("fake");
      expect(n.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    }
  });

  it("schedules a Pod to a kwok node and it becomes Running and Ready", async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
    // The ServiceAccount admission plugin refuses pods until the controller-manager has made
    // the namespace's default ServiceAccount.
    await until("the default ServiceAccount", STEP_TIMEOUT, async () =>
      core.readNamespacedServiceAccount({ name: "default", namespace: ns }),
    );
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: "smoke", labels: { app: "smoke" } },
        spec: {
          containers: [{ name: "main", image: "registry.invalid/kne/smoke:1", ports: [{ containerPort: 8080 }] }],
        },
      },
    });
    const pod = await until("the pod to be Ready", STEP_TIMEOUT, async () => {
      const p = await core.readNamespacedPod({ name: "smoke", namespace: ns });
      const ready = p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      return p.status?.phase === "Running" && ready ? p : undefined;
    });
    const nodeName = pod.spec?.nodeName ?? "";
    expect(nodeName).not.toBe("");
    const node = await core.readNode({ name: nodeName });
    expect(node.metadata?.annotations?.["kwok.x-k8s.io/node"]).toBe("fake");
    expect(pod.status?.podIP).toBeTruthy();
    expect(inCidr(pod.status!.podIP!, "198.19.0.0/16")).toBe(true);
    expect(pod.status?.containerStatuses?.[0]?.ready).toBe(true);
  });

  it("serves a Service with a ClusterIP from the test range", async () => {
    const svc = await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: "smoke" },
        spec: { selector: { app: "smoke" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    expect(inCidr(svc.spec?.clusterIP ?? "", "198.18.0.0/16")).toBe(true);
    // The endpointslice controller (controller-manager) publishes the Ready pod behind it.
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    await until("the EndpointSlice", STEP_TIMEOUT, async () => {
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace: ns,
        labelSelector: "kubernetes.io/service-name=smoke",
      });
      const ready = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
      return ready.length === 1 ? ready : undefined;
    });
  });

  it("installs a CRD and reads a custom object back", async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const group = "smoke.kne.dev";
    const plural = `widgets${process.pid}`;
    const name = `${plural}.${group}`;
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name },
        spec: {
          group,
          scope: "Namespaced",
          names: { plural, singular: `widget${process.pid}`, kind: `Widget${process.pid}`, listKind: `Widget${process.pid}List` },
          versions: [
            {
              name: "v1alpha1",
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: "object",
                  properties: {
                    spec: {
                      type: "object",
                      required: ["size"],
                      properties: { size: { type: "integer", minimum: 1 }, color: { type: "string" } },
                    },
                    status: { type: "object", properties: { phase: { type: "string" } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    try {
      await until("the CRD to be Established", STEP_TIMEOUT, async () => {
        const crd = await ext.readCustomResourceDefinition({ name });
        return crd.status?.conditions?.find((c) => c.type === "Established")?.status === "True" ? crd : undefined;
      });
      const version = "v1alpha1";
      await until("the custom object to be created", STEP_TIMEOUT, async () =>
        custom.createNamespacedCustomObject({
          group,
          version,
          namespace: ns,
          plural,
          body: { apiVersion: `${group}/${version}`, kind: `Widget${process.pid}`, metadata: { name: "w1" }, spec: { size: 3, color: "blue" } },
        }),
      );
      const got = (await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural, name: "w1" })) as {
        spec: { size: number; color: string };
      };
      expect(got.spec).toEqual({ size: 3, color: "blue" });
      // The schema is enforced by the real API server.
      await expect(
        custom.createNamespacedCustomObject({
          group,
          version,
          namespace: ns,
          plural,
          body: { apiVersion: `${group}/${version}`, kind: `Widget${process.pid}`, metadata: { name: "bad" }, spec: { size: 0 } },
        }),
      ).rejects.toThrow(/422|Invalid|minimum/);
    } finally {
      await ext.deleteCustomResourceDefinition({ name }).catch(() => undefined);
    }
  });
});
