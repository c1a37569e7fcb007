/**
 * The bootstrapper's one error translation: bad certificate settings (INVALID_ARGUMENT
 * naming the topology field), vendors that take no certificate (UNIMPLEMENTED naming the
 * vendor, as upstream answers), and `openssl` failures (its exit and stderr).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { invalidArgument } from "@kne/rpc";

export function badCertificateField(field: string, message: string): ConnectError {
  return invalidArgument(message, [{ field, description: message }]);
}

export function certificateUnsupported(node: string, vendor: string, why: string): ConnectError {
  return new ConnectError(`node ${node}: vendor ${vendor} does not take certificates (${why})`, Code.Unimplemented);
}

export function missingCertificateConfig(node: string): ConnectError {
  return invalidArgument(`node ${node} has no certificate settings: add config { cert { self_signed { common_name: "...", key_size: 2048 } } } to it`, [
    { field: `nodes[${node}].config.cert`, description: "is not set" },
  ]);
}

/** `openssl` could not be run, or refused: its own words, and how to get it. */
export function opensslFailed(err: unknown, stderr: string): ConnectError {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (errno === "ENOENT") {
    return new ConnectError("openssl is not installed on this host (Debian package openssl; tools/setup/install-deps.sh installs it)", Code.FailedPrecondition);
  }
  const detail = stderr.trim().split("\n").slice(-3).join(" / ") || (err as Error)?.message || String(err);
  return new ConnectError(`openssl could not generate the certificate: ${detail}`, Code.Internal);
}
