/**
 * The exposer's one error translation: what binding a host port or reaching a node can
 * fail with (Node system errors), as gRPC codes with a message naming the address and port.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** Why a host port could not be bound, for the caller who asked for it. */
export function hostPortError(err: unknown, address: string, port: number, what: string): ConnectError {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${formatHostPort(address, port === 0 ? "any free port" : port)}`;
  switch (errno) {
    case "EADDRINUSE":
      return new ConnectError(`${what}: host port ${where} is in use; choose another node_port or leave it unset for a free one`, Code.FailedPrecondition);
    case "EACCES":
    case "EPERM":
      return new ConnectError(`${what}: not allowed to bind host port ${where} (ports below 1024 need root)`, Code.PermissionDenied);
    case "EADDRNOTAVAIL":
      return new ConnectError(`${what}: forward address ${address} is not an address of this host`, Code.InvalidArgument);
    default:
      return new ConnectError(`${what}: cannot bind host port ${where}: ${(err as Error)?.message ?? String(err)}`, Code.Internal);
  }
}

export function invalidExposeRequest(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/** `127.0.0.1:2201`, `[::1]:2201`. */
export function formatHostPort(address: string, port: number | string): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
