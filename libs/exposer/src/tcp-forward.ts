/**
 * One TCP forward: a listening socket on a host address whose every connection is joined
 * to a fresh connection to the target (a node's management address and service port).
 * Bytes are piped both ways with back-pressure; when either side ends or fails, both are
 * closed. `close()` stops listening and ends the connections it carries.
 */
import { type Server, type Socket, connect, createServer } from "node:net";
import { hostPortError } from "./errors.ts";

export interface TcpForwardOptions {
  listenAddress: string;
  /** 0: a free port the kernel picks. */
  listenPort: number;
  targetAddress: string;
  targetPort: number;
  /** Named in errors (`node r1 service ssh`). */
  what: string;
  /** Called when a connection to the target fails (the client's connection is closed). */
  onTargetError?: (err: Error) => void;
}

export interface TcpForward {
  readonly listenAddress: string;
  readonly port: number;
  readonly targetAddress: string;
  readonly targetPort: number;
  /** Connections being forwarded now. */
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpForward(options: TcpForwardOptions): Promise<TcpForward> {
  const sockets = new Set<Socket>();
  // Half-open on both sides: a client that sends its request and then its FIN still gets
  // the whole answer (each side's end is passed on as an end, not as a close).
  const server: Server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: options.targetAddress, port: options.targetPort, allowHalfOpen: true });
    const pair = [client, upstream];
    for (const s of pair) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on("close", () => sockets.delete(s));
    }
    // Once both directions have ended, nothing more can flow: release both sockets.
    let ended = 0;
    const onEnd = (): void => {
      if (++ended === 2) for (const s of pair) s.destroySoon();
    };
    client.on("end", onEnd);
    upstream.on("end", onEnd);
    // A failure on one side (the node refuses, resets, the client goes away) closes both.
    client.on("error", () => upstream.destroy());
    upstream.on("error", (err) => {
      options.onTargetError?.(err);
      client.destroy();
    });
    upstream.on("connect", () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(hostPortError(err, options.listenAddress, options.listenPort, options.what)));
    server.listen({ host: options.listenAddress, port: options.listenPort, exclusive: true }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.listenPort;
  let closed: Promise<void> | undefined;
  return {
    listenAddress: options.listenAddress,
    port,
    targetAddress: options.targetAddress,
    targetPort: options.targetPort,
    connections: () => Math.ceil(sockets.size / 2),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}
