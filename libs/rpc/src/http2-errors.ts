// The one translation of HTTP/2 and Node socket failures into gRPC codes, shared by the
// lean unary server and client so both name a broken stream the way connect-node does
// (clients switching between transports see the same codes).
import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * RST_STREAM codes and what they mean to a gRPC caller (gRPC's PROTOCOL-HTTP2.md, "Errors").
 * Built on first use: reading node:http2's constants loads the module (~15 ms), and every
 * process that bundles this file (each in-process `kne` command) would pay it at start.
 */
let resetCodes: ReadonlyMap<number, [name: string, code: Code]> | undefined;
function resetCodeTable(): ReadonlyMap<number, [name: string, code: Code]> {
  const { constants } = http2;
  return new Map([
    [constants.NGHTTP2_PROTOCOL_ERROR, ["PROTOCOL_ERROR", Code.Internal]],
    [constants.NGHTTP2_INTERNAL_ERROR, ["INTERNAL_ERROR", Code.Internal]],
    [constants.NGHTTP2_FLOW_CONTROL_ERROR, ["FLOW_CONTROL_ERROR", Code.Internal]],
    [constants.NGHTTP2_SETTINGS_TIMEOUT, ["SETTINGS_TIMEOUT", Code.Internal]],
    [constants.NGHTTP2_FRAME_SIZE_ERROR, ["FRAME_SIZE_ERROR", Code.Internal]],
    [constants.NGHTTP2_COMPRESSION_ERROR, ["COMPRESSION_ERROR", Code.Internal]],
    [constants.NGHTTP2_CONNECT_ERROR, ["CONNECT_ERROR", Code.Internal]],
    [constants.NGHTTP2_REFUSED_STREAM, ["REFUSED_STREAM", Code.Unavailable]],
    [constants.NGHTTP2_CANCEL, ["CANCEL", Code.Canceled]],
    [constants.NGHTTP2_ENHANCE_YOUR_CALM, ["ENHANCE_YOUR_CALM", Code.ResourceExhausted]],
    [constants.NGHTTP2_INADEQUATE_SECURITY, ["INADEQUATE_SECURITY", Code.PermissionDenied]],
    [constants.NGHTTP2_HTTP_1_1_REQUIRED, ["HTTP_1_1_REQUIRED", Code.PermissionDenied]],
  ]);
}

/**
 * The error a stream reset with `rstCode` stands for; undefined for NO_ERROR and
 * STREAM_CLOSED, which gRPC does not map (the stream's status decides).
 */
export function errorFromResetCode(rstCode: number | undefined): ConnectError | undefined {
  const known = rstCode === undefined ? undefined : (resetCodes ??= resetCodeTable()).get(rstCode);
  if (known === undefined) return undefined;
  const [name, code] = known;
  return new ConnectError(`http/2 stream closed with error code ${name} (0x${rstCode!.toString(16)})`, code);
}

/** Node error codes (anywhere in the `cause` chain) and their gRPC code, as connect-node maps them. */
const nodeCodes: ReadonlyMap<string, Code> = new Map([
  // Our own write after the peer already answered and closed: not the call's outcome.
  ["ERR_STREAM_WRITE_AFTER_END", Code.Aborted],
  ["ERR_STREAM_DESTROYED", Code.Aborted],
  ["ERR_HTTP2_INVALID_STREAM", Code.Aborted],
  ["ECONNRESET", Code.Aborted],
  ["ETIMEDOUT", Code.Unavailable],
  ["ENOTFOUND", Code.Unavailable],
  ["EAI_AGAIN", Code.Unavailable],
  ["ECONNREFUSED", Code.Unavailable],
]);

/** A Node failure (socket, session, stream) as a ConnectError; unknown ones are INTERNAL. */
export function errorFromNodeReason(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  const chain = new Set<string>();
  const seen = new Set<unknown>();
  for (let e = reason; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const errCode = (e as NodeJS.ErrnoException).code;
    if (typeof errCode === "string") chain.add(errCode);
  }
  // The map's order is the precedence: a write-after-end hides any other cause.
  let code = Code.Internal;
  for (const [nodeCode, grpcCode] of nodeCodes) {
    if (chain.has(nodeCode)) {
      code = grpcCode;
      break;
    }
  }
  const err = ConnectError.from(reason, code);
  if (err !== reason) err.cause = reason;
  return err;
}
