/**
 * A Connect transport to an implementation in this process that skips what a router
 * transport does for the sake of a remote peer: unary calls pass their messages by
 * reference (no binary round trip, no envelopes, no async-iterable pipes) through the
 * client's interceptors, then the server's, then the implementation. Streaming methods
 * go through Connect's router transport as before.
 *
 * Why: the local backend talks to its embedded agent through such a client, and the router
 * transport's serialization of an ApplyWires request for 100 nodes took 35-50 ms of a
 * 0.6 s create (the event loop is the critical path between kernel phases).
 *
 * The price of passing by reference: callers must not change a request after sending it,
 * nor the implementation a request it keeps (the agent keeps the ApplyWires request it
 * accepted; the manager builds a new one per call).
 */
import { type DescMessage, type DescMethod, type DescMethodUnary, type DescService, create, isMessage } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
  type Transport,
  type UnaryRequest,
  type UnaryResponse,
  createContextValues,
  createRouterTransport,
  createServiceImplSpec,
} from "@connectrpc/connect";
import type { ServiceRegistration } from "./service-registration";
import { type UnaryNext, applyUnaryInterceptors } from "./unary-wire";

export interface DirectTransportOptions {
  /** Run first, as a client transport runs them (tracing injects its headers here). */
  clientInterceptors?: readonly Interceptor[];
  /** Run after the client's, as a server runs them, nearest the implementation. */
  serverInterceptors?: readonly Interceptor[];
}

type UnaryImpl = (request: unknown, context: HandlerContext) => unknown;

/**
 * `target` with a `Headers` property per entry of `inits`, made from its init on first read
 * (and replaceable). The first `Headers` of a process loads Node's bundled undici, where the
 * global lives (~20-35 ms, --cpu-prof of `kne show`); in-process calls whose interceptors and
 * handlers never look at headers then never pay it.
 */
function withLazyHeaders<T extends object>(target: T, inits: Record<string, () => ConstructorParameters<typeof Headers>[0]>): T {
  for (const [key, init] of Object.entries(inits)) {
    let value: Headers | undefined;
    Object.defineProperty(target, key, {
      get: () => (value ??= new Headers(init())),
      set: (next: Headers) => {
        value = next;
      },
      enumerable: true,
      configurable: true,
    });
  }
  return target;
}

/**
 * What Connect's createHandlerContext makes for a call, with headers made on first use
 * (withLazyHeaders) and the signal aborted with the request's or by `abort`, when the call ends.
 */
function directHandlerContext(service: DescService, method: DescMethod, url: string, req: UnaryRequest): HandlerContext & { abort(reason?: unknown): void } {
  const controller = new AbortController();
  const onRequestAbort = (): void => controller.abort(req.signal.reason);
  if (req.signal.aborted) onRequestAbort();
  else req.signal.addEventListener("abort", onRequestAbort, { once: true });
  const context = {
    service,
    method,
    protocolName: "direct",
    requestMethod: "POST",
    url,
    signal: controller.signal,
    timeoutMs: () => undefined,
    values: req.contextValues,
    abort(reason?: unknown) {
      req.signal.removeEventListener("abort", onRequestAbort);
      controller.abort(reason);
    },
  };
  // As Connect does, the handler gets a copy of the request's headers, not the same object.
  return withLazyHeaders(context, { requestHeader: () => req.header, responseHeader: () => undefined, responseTrailer: () => undefined }) as typeof context & HandlerContext;
}


export function createDirectTransport(registrations: readonly ServiceRegistration[], options: DirectTransportOptions = {}): Transport {
  const unary = new Map<string, { service: DescService; method: DescMethod; impl: UnaryImpl }>();
  for (const r of registrations) {
    // The same spec a router builds: bound methods, UNIMPLEMENTED for the missing ones.
    const spec = createServiceImplSpec(r.service, r.impl as ServiceImpl<DescService>);
    for (const m of Object.values(spec.methods)) {
      if (m.kind === "unary") unary.set(`${r.service.typeName}/${m.method.name}`, { service: r.service, method: m.method, impl: m.impl as UnaryImpl });
    }
  }
  const clientInterceptors = [...(options.clientInterceptors ?? [])];
  const serverInterceptors = [...(options.serverInterceptors ?? [])];
  const interceptors = [...clientInterceptors, ...serverInterceptors];
  const streams = createRouterTransport((router) => {
    for (const r of registrations) router.service(r.service, r.impl as ServiceImpl<DescService>);
  }, {
    transport: { interceptors: clientInterceptors },
    router: { interceptors: serverInterceptors },
  });

  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: Parameters<Transport["unary"]>[3],
      input: Parameters<Transport["unary"]>[4],
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const route = unary.get(`${method.parent.typeName}/${method.name}`);
      if (!route) throw new ConnectError(`${method.parent.typeName}/${method.name} is not served here`, Code.Unimplemented);
      const { service } = route;
      const url = `direct:/${service.typeName}/${method.name}`;
      const handle: UnaryNext = async (req) => {
        const context = directHandlerContext(service, method, url, req);
        try {
          const output = await route.impl(req.message, context);
          return {
            stream: false,
            service,
            method,
            get header() {
              return context.responseHeader;
            },
            get trailer() {
              return context.responseTrailer;
            },
            message: isMessage(output, method.output) ? output : create(method.output, output as never),
          } as UnaryResponse;
        } finally {
          // The call is over for the handler, as a server ends it.
          context.abort();
        }
      };
      // As over the wire: the caller hears DEADLINE_EXCEEDED at its deadline, CANCELED when
      // it aborts, whatever the handler does (whose signal says the same at that moment);
      // any failure arrives as a ConnectError.
      const controller = new AbortController();
      let stop: ((err: ConnectError) => void) | undefined;
      const stopped = new Promise<never>((_, reject) => {
        stop = (err) => {
          reject(err);
          controller.abort(err);
        };
      });
      const onAbort = (): void => stop!(ConnectError.from(signal?.reason, Code.Canceled));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
      const timer =
        timeoutMs !== undefined && timeoutMs > 0
          ? setTimeout(() => stop!(new ConnectError(`the call did not finish within ${timeoutMs} ms`, Code.DeadlineExceeded)), timeoutMs)
          : undefined;
      const next = applyUnaryInterceptors(interceptors, handle);
      const call = controller.signal.aborted
        ? stopped
        : next(
            withLazyHeaders(
              {
                stream: false,
                service,
                method,
                requestMethod: "POST",
                url,
                signal: controller.signal,
                contextValues: contextValues ?? createContextValues(),
                message: isMessage(input, method.input) ? input : create(method.input, input as never),
              },
              { header: () => header },
            ) as unknown as UnaryRequest,
          );
      try {
        const res = await Promise.race([call, stopped]);
        return res as unknown as UnaryResponse<I, O>;
      } catch (err) {
        throw ConnectError.from(err);
      } finally {
        if (timer) clearTimeout(timer);
        call.catch(() => undefined);
        stopped.catch(() => undefined);
        signal?.removeEventListener("abort", onAbort);
      }
    },
    stream: (method, signal, timeoutMs, header, input, contextValues) => streams.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}
