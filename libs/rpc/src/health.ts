import { Code, ConnectError } from "@connectrpc/connect";
import { healthv1 } from "@kne/proto";
import { serviceRegistration, type ServiceRegistration } from "./service-registration";

export const ServingStatus = healthv1.HealthCheckResponse_ServingStatus;
export type ServingStatus = healthv1.HealthCheckResponse_ServingStatus;

/** The standard `grpc.health.v1.Health` service with a settable status per service name. */
export interface HealthService {
  /** Register this with the server. */
  readonly registration: ServiceRegistration;
  /** Sets a status; "" is the whole server. Watchers see the change. Ignored after shutdown. */
  setStatus(service: string, status: ServingStatus): void;
  /** The current status, or undefined for a name never set. */
  getStatus(service: string): ServingStatus | undefined;
  /**
   * Marks everything NOT_SERVING for good, as a server going away should (load balancers
   * and clients stop sending before connections close).
   */
  shutdown(): void;
}

/**
 * Creates the health service. Every name in `services` (and "" for the whole server)
 * starts SERVING.
 */
export function createHealthService(services: readonly string[] = []): HealthService {
  const statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  for (const name of services) statuses.set(name, ServingStatus.SERVING);
  // A version number rather than events: a watcher compares versions, so a change that
  // lands while it is busy sending is never missed (level-triggered, not edge-triggered).
  let version = 0;
  const waiters = new Set<() => void>();
  let shutDown = false;

  const bump = (): void => {
    version++;
    for (const wake of [...waiters]) wake();
  };

  const changed = (signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });

  const registration = serviceRegistration(healthv1.Health, {
    check(req) {
      const status = statuses.get(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return { status };
    },
    list() {
      return { statuses: Object.fromEntries([...statuses].map(([name, status]) => [name, { status }])) };
    },
    async *watch(req, ctx) {
      // The spec: an unknown service is reported as SERVICE_UNKNOWN and the stream stays
      // open, because the service may be registered later.
      let last: ServingStatus | undefined;
      while (!ctx.signal.aborted) {
        const observed = version;
        const current = statuses.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (current !== last) {
          last = current;
          yield { status: current };
        }
        if (version === observed) await changed(ctx.signal);
      }
      // Cancelled by the client (nobody listens) or by server shutdown (the reason is an
      // UNAVAILABLE error the client should see).
      const reason = ConnectError.from(ctx.signal.reason, Code.Canceled);
      throw new ConnectError(reason.rawMessage, reason.code, undefined, undefined, ctx.signal.reason);
    },
  });

  return {
    registration,
    setStatus(service, status) {
      if (shutDown || statuses.get(service) === status) return;
      statuses.set(service, status);
      bump();
    },
    getStatus: (service) => statuses.get(service),
    shutdown() {
      if (shutDown) return;
      shutDown = true;
      for (const name of statuses.keys()) statuses.set(name, ServingStatus.NOT_SERVING);
      bump();
    },
  };
}
