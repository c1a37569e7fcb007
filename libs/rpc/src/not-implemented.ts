import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceRegistration } from "./service-registration";

/**
 * A stand-in implementation of every method of a service that answers UNIMPLEMENTED with
 * "not implemented yet: <method> (<scope>)", so a caller learns the method exists and
 * where its implementation will come from, rather than Connect's bare default.
 */
export function notImplementedService(service: DescService, scope: string): ServiceRegistration {
  const impl: Record<string, unknown> = {};
  for (const method of service.methods) {
    const error = (): ConnectError =>
      new ConnectError(`not implemented yet: ${service.typeName}/${method.name} (${scope})`, Code.Unimplemented);
    impl[method.localName] =
      method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming"
        ? (): AsyncIterable<never> => ({
            [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error()) }),
          })
        : (): Promise<never> => Promise.reject(error());
  }
  return { service, impl } as ServiceRegistration;
}
