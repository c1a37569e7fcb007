import { Code } from "@connectrpc/connect";

/**
 * The canonical gRPC name of a code (`NOT_FOUND`), as grpc-go, grpcurl and buf curl print
 * it, so logs and traces read the same as what clients see.
 */
export function grpcCodeName(code: Code | 0): string {
  if (code === 0) return "OK";
  const name = Code[code];
  return name === undefined ? String(code) : name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * Codes that mean the server, not the caller, is at fault (OpenTelemetry's RPC
 * conventions mark exactly these server spans as errors).
 */
export function isServerFault(code: Code | 0): boolean {
  return (
    code === Code.Unknown ||
    code === Code.DeadlineExceeded ||
    code === Code.Unimplemented ||
    code === Code.Internal ||
    code === Code.Unavailable ||
    code === Code.DataLoss
  );
}
