/**
 * The kubernetes backend, loaded on demand: @kne/manager's main entry names it only through
 * these functions, so that a process on the local backend never loads the Kubernetes client
 * (a third of a bundled app, and most of its start time).
 */
import { embed, type Embedded } from "./embedded.ts";
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
