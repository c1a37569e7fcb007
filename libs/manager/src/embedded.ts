/**
 * The manager in this process: the local backend behind the manager's services, reached
 * through Connect's router transport, so that callers (the `kne` CLI, tests) use the same
 * clients as with a remote topology-manager.
 */
import { createRouterTransport, type Transport } from "@connectrpc/connect";
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
  return { transport, backend, close: () => backend.close() };
}
