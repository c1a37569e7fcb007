/**
 * The manager in this process: the local backend (or, through @kne/manager/kubernetes, the
 * kubernetes one) behind the manager's
 * services, reached through a direct transport (unary calls pass their messages by
 * reference; streams go through Connect's router), so that callers (the `kne` CLI, tests)
 * use the same clients as with a remote topology-manager.
 */
import type { Transport } from "@connectrpc/connect";
import { createDirectTransport } from "@kne/rpc";
import type { RuntimeBackend } from "./backend.ts";
import { LocalBackend, type LocalBackendOptions } from "./local/local-backend.ts";
import { createManagerServices, managerRegistrations } from "./services.ts";

export interface Embedded<B extends RuntimeBackend> {
  transport: Transport;
  backend: B;
  close(): Promise<void>;
}

export type EmbeddedManager = Embedded<LocalBackend>;

/** The manager's services over `backend`, in this process. */
export function embed<B extends RuntimeBackend>(backend: B): Embedded<B> {
  const services = createManagerServices(backend);
  // A 100-node CreateTopology answer took ~50 ms to serialize and parse through the router.
  const transport = createDirectTransport(managerRegistrations(services));
  // The watch hub keeps a backend subscription open for a while after its last watcher
  // leaves; a closing manager ends it now so that the process can exit.
  const close = () => {
    services.watchHub.close();
    return backend.close();
  };
  return { transport, backend, close };
}

export function createEmbeddedManager(options: LocalBackendOptions = {}): EmbeddedManager {
  return embed(new LocalBackend(options));
}
