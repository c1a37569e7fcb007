/**
 * @kne/kube — Kubernetes access for the manager, with nothing the manager does not need:
 *
 * - `KubeClient` — credentials from a kubeconfig, HTTPS keep-alive, a client-side token
 *   bucket (`DEFAULT_RATE_LIMIT`), a request counter, get/list/create/delete, server-side
 *   apply (field manager `kne`), merge and JSON patches, watch streams.
 * - `resourceTypes`, `resourcePath`, `objectKey` — the resources used and their paths;
 *   the `kne.dev/v1alpha1` kinds Topology, Link and Device.
 * - `Informer` — a watch-based cache per resource type, so reconcilers never poll.
 * - `WorkQueue` — keys deduplicated, serialized per key, retried with backoff, bounded concurrency;
 *   `forEachConcurrently` for the bounded fan-out of one pass.
 * - `ensureCrds`, `readManifests`, `kneCrdsDir`, `crdInstalled` — CRD installation.
 * - `KubeApiError` and `codeForKubeStatus` — the one translation of HTTP status to gRPC codes.
 */
export { KubeClient, RequestCounter, loadKubeConfig, DEFAULT_RATE_LIMIT, FIELD_MANAGER, type KubeClientOptions, type WatchEvent, type ListResult } from "./kube-client.ts";
export { KubeApiError, codeForKubeStatus, kubeTransportError, isNotFound, isConflict, isGone, isRetriable, type KubeStatusBody } from "./kube-errors.ts";
export { TokenBucket, systemClock, type Clock, type RateLimit } from "./rate-limiter.ts";
export { Informer, type InformerEventType, type InformerHandler, type InformerOptions } from "./informer.ts";
export { WorkQueue, type ReconcileResult, type WorkQueueOptions } from "./work-queue.ts";
export { forEachConcurrently } from "./concurrency.ts";
export { ensureCrds, requireCrds, readManifests, crdInstalled, kneCrdsDir } from "./crds.ts";
export {
  resourceTypes,
  resourcePath,
  objectKey,
  apiVersionOf,
  KNE_GROUP,
  KNE_VERSION,
  KNE_API_VERSION,
  type KubeObject,
  type KubeMetadata,
  type OwnerReference,
  type ResourceType,
} from "./resource-types.ts";
