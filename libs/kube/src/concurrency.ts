/**
 * Bounded fan-out of API calls: a pass that applies a thousand objects keeps at most
 * `limit` requests in flight (the token bucket paces them; this bounds sockets and memory).
 */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
