import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";

/**
 * A service descriptor with its implementation, as startServer takes them. Methods left
 * out of `impl` answer UNIMPLEMENTED.
 */
export interface ServiceRegistration<S extends DescService = DescService> {
  service: S;
  impl: Partial<ServiceImpl<S>>;
}

/**
 * Pairs a service with its implementation, checking the implementation against that
 * service's methods (a bare object literal in an array would be checked against no
 * service in particular).
 */
export function serviceRegistration<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): ServiceRegistration {
  return { service, impl } as unknown as ServiceRegistration;
}
