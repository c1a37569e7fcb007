/**
 * The manager in this process: the local (or kubernetes) backend behind the manager's services, reached
 * through Connect's router transport, so that callers (the `kne` CLI, tests) use the same
 * clients as with a remote topology-manager.
 */
import { createRouterTransport, type Transport } from "@connectrpc/connect";
import { KubernetesBackend, type KubernetesBackendOptions } from "./kubernetes/kubernetes-backend.ts";
import { LocalBackend, type LocalBackendOptions } from "./local/local-backend.ts";
import { createManagerServices, registerManagerServices } from "./services.ts";

export interface EmbeddedManager {
  transport: Transport;
  backend: LocalBackend;
  close(): Promise<void>;
}

export function createEmbeddedManager(options: LocalBackendOptions = {}): EmbeddedManager {
  const backend = new LocalBackend(options);
  const services = createManagerServices(backend);
  const transport = createRouterTransport((router) => registerManagerServices(router, services));
  // The watch hub keeps a backend subscription open for a while after its last watcher
  // leaves; a closing manager ends it now so that the process can exit.
  const close = () => {
    services.watchHub.close();
    return backend.close();
  };
  return { transport, backend, close };
}

export interface EmbeddedKubernetesManager {
  transport: Transport;
  backend: KubernetesBackend;
  close(): Promise<void>;
}

/** The manager in this process over a Kubernetes cluster (`kne --backend kubernetes`). */
export function createEmbeddedKubernetesManager(options: KubernetesBackendOptions = {}): EmbeddedKubernetesManager {
  const backend = new KubernetesBackend(options);
  const services = createManagerServices(backend);
  const transport = createRouterTransport((router) => registerManagerServices(router, services));
  // The watch hub keeps a backend subscription open for a while after its last watcher
  // leaves; a closing manager ends it now so that the process can exit.
  const close = () => {
    services.watchHub.close();
    return backend.close();
  };
  return { transport, backend, close };
}
