/**
 * What both ends of the lean unary gRPC path (fast-unary-server.ts, fast-grpc-transport.ts)
 * and the direct transport share: gRPC's length-prefixed messages ("envelopes") with
 * Connect's codes and words for what can be wrong with them, the reason a finished call's
 * signal is aborted with, and the interceptor chain around a unary call.
 */
import { Code, ConnectError, type Interceptor, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";

/** One flags byte and a 4-byte big-endian length. */
export const ENVELOPE_HEADER_BYTES = 5;
const COMPRESSED_FLAG = 0b1;

/** One uncompressed envelope around `payload`. */
export function encodeEnvelope(payload: Uint8Array): Buffer {
  const envelope = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + payload.length);
  envelope[0] = 0;
  envelope.writeUInt32BE(payload.length, 1);
  envelope.set(payload, ENVELOPE_HEADER_BYTES);
  return envelope;
}

/** The length an envelope header at the start of `head` states (it must hold one). */
export function envelopeLength(head: Buffer): number {
  return head.readUInt32BE(1);
}

/**
 * The envelopes of a complete body, in order, read as they are consumed: a length over
 * `readMaxBytes` fails when that envelope is reached, and a torn last envelope fails after
 * the whole ones (as Connect orders these errors).
 */
export function* envelopes(body: Buffer, readMaxBytes: number): Generator<{ compressed: boolean; data: Buffer }> {
  let offset = 0;
  while (body.length - offset >= ENVELOPE_HEADER_BYTES) {
    const flags = body[offset]!;
    const length = body.readUInt32BE(offset + 1);
    if (length > readMaxBytes) throw messageTooLarge(length, readMaxBytes);
    const start = offset + ENVELOPE_HEADER_BYTES;
    if (body.length - start < length) break;
    offset = start + length;
    yield { compressed: (flags & COMPRESSED_FLAG) !== 0, data: body.subarray(start, offset) };
  }
  if (offset < body.length) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
}

/** Connect's words for an oversized message, naming both sizes. */
export function messageTooLarge(size: number, readMaxBytes: number): ConnectError {
  return new ConnectError(`message size ${size} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
}

/** Connect's words for an envelope that says it is compressed when no compression was agreed. */
export function unexpectedCompression(): ConnectError {
  return new ConnectError("received compressed envelope, but do not know how to decompress", Code.Internal);
}

/**
 * Connect aborts a call's signal when it ends, also on success, with a fresh DOMException
 * each time; building one captures a stack (a measurable share of a trivial call). The
 * same kind of reason, made once, tells handlers and interceptors the same thing for free.
 */
export const callEnded = new DOMException("This operation was aborted", "AbortError");

export type UnaryNext = (req: UnaryRequest) => Promise<UnaryResponse>;

/** `next` wrapped in the interceptors, the first outermost (Connect's own helper is not exported). */
export function applyUnaryInterceptors(interceptors: readonly Interceptor[], next: UnaryNext): UnaryNext {
  let chain = next;
  for (let i = interceptors.length - 1; i >= 0; i--) chain = interceptors[i]!(chain as never) as unknown as UnaryNext;
  return chain;
}
