import { AbortError, TimeoutError } from './errors';

/**
 * Combines the caller's signal with a timeout into one signal for the underlying client,
 * and turns whatever the client threw into the right typed error afterwards.
 */
export function withDeadline(url: string, signal: AbortSignal | undefined, timeoutMs: number | undefined) {
  const controller = new AbortController();
  let timedOut = false;
  const timer =
    timeoutMs !== undefined && Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs)
      : undefined;
  const onAbort = () => controller.abort();
  if (signal?.aborted) controller.abort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  return {
    signal: controller.signal,
    /** Rejects at once if the caller's signal already fired. */
    check() {
      if (signal?.aborted) throw new AbortError({ url, cause: signal.reason });
    },
    /** Maps a thrown error to AbortError / TimeoutError, or returns undefined if neither applies. */
    classify(err: unknown): AbortError | TimeoutError | undefined {
      if (signal?.aborted) return new AbortError({ url, cause: signal.reason });
      if (timedOut) return new TimeoutError(timeoutMs!, { url, cause: err });
      return undefined;
    },
    done() {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
