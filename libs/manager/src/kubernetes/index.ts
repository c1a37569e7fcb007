/**
 * @kne/manager/kubernetes — the kubernetes backend: topologies as `kne.dev` objects
 * (Topology, Link, Device) in a cluster, made real by the in-process `TopologyReconciler`
 * over watch caches. An entry of its own: importing @kne/manager does not load the
 * Kubernetes client; processes that run this backend import this when they choose it.
 */
export { KubernetesBackend, type KubernetesBackendOptions } from "./kubernetes-backend.ts";
export { TopologyReconciler, type OperatorModeOption } from "./topology-reconciler.ts";
export { KubecfgClusters, type KubecfgClustersOptions, type StartableBackend } from "./kubecfg-clusters.ts";
