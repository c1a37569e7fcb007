/**
 * The kubernetes backend, loaded on demand: @kne/manager's main entry names it only through
 * these functions, so that a process on the local backend never loads the Kubernetes client
 * (a third of a bundled app, and most of its start time).
 */
import { embed, type Embedded } from "./embedded.ts";
import type { KubecfgClusters, KubecfgClustersOptions } from "./kubernetes/kubecfg-clusters.ts";
import type { KubernetesBackend, KubernetesBackendOptions } from "./kubernetes/kubernetes-backend.ts";

export type EmbeddedKubernetesManager = Embedded<KubernetesBackend>;

export async function createKubernetesBackend(options: KubernetesBackendOptions = {}): Promise<KubernetesBackend> {
  const { KubernetesBackend } = await import("./kubernetes/kubernetes-backend.ts");
  return new KubernetesBackend(options);
}

/** The manager in this process over a Kubernetes cluster (`kne --backend kubernetes`). */
export async function createEmbeddedKubernetesManager(options: KubernetesBackendOptions = {}): Promise<EmbeddedKubernetesManager> {
  return embed(await createKubernetesBackend(options));
}

/** The other clusters upstream's CreateTopology may name by `kubecfg` (kubernetes backend only). */
export async function createKubecfgClusters(options: KubecfgClustersOptions): Promise<KubecfgClusters> {
  const { KubecfgClusters } = await import("./kubernetes/kubecfg-clusters.ts");
  return new KubecfgClusters(options);
}
