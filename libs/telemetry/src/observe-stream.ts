import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Passes a response stream through and reports once how it ended: drained (no error),
 * failed (the error), or abandoned by its consumer (CANCELED), so that logs and spans of
 * streaming calls cover the whole stream rather than only its start.
 */
export async function* observeStream<T>(stream: AsyncIterable<T>, finish: (err?: unknown) => void): AsyncIterable<T> {
  let settled = false;
  try {
    yield* stream;
    settled = true;
    finish();
  } catch (err) {
    settled = true;
    finish(err);
    throw err;
  } finally {
    if (!settled) finish(new ConnectError("stream abandoned by its consumer", Code.Canceled));
  }
}

/**
 * Runs a call and reports once when it is over: a unary call when its response (or error)
 * arrives, a streaming one when its stream ends (see `observeStream`).
 */
export async function observeCall<R extends { stream: boolean; message: unknown }>(call: () => Promise<R>, finish: (err?: unknown) => void): Promise<R> {
  let res: R;
  try {
    res = await call();
  } catch (err) {
    finish(err);
    throw err;
  }
  if (!res.stream) {
    finish();
    return res;
  }
  return { ...res, message: observeStream(res.message as AsyncIterable<unknown>, finish) };
}
