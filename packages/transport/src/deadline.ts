import { AbortError, networkError, TimeoutError } from './errors';
import { checkTransportRequest } from './request';
import type { TransportRequest } from './types';

export interface ExchangeOptions {
  /** Wait one event-loop turn after the answer so the socket goes back to the pool first (default true). */
  awaitSocketReuse?: boolean;
}

/**
 * Runs one HTTP exchange under the request's `signal` and `timeoutMs` (checked first: ValidationError).
 * `exchange` gets a signal that fires on either; the result settles as soon as that signal fires, even if the
 * underlying client ignores it. Every other failure comes out as an `AbortError`, a `TimeoutError` or a
 * `TransportError`. The timer is a plain `setTimeout`, so the deadline holds to a few ms.
 */
export async function runExchange<T>(
  request: TransportRequest,
  exchange: (signal: AbortSignal) => Promise<T>,
  options: ExchangeOptions = {},
): Promise<T> {
  checkTransportRequest(request);
  const { url, signal, timeoutMs } = request;
  if (signal?.aborted) throw new AbortError({ url, cause: signal.reason });

  const controller = new AbortController();
  let timedOut = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const stopped = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  const work = (async () => exchange(controller.signal))();
  // whichever loses the race must not become an unhandled rejection
  stopped.catch(() => {});
  work.catch(() => {});

  try {
    const result = await Promise.race([work, stopped]);
    // undici (under Node's fetch too) hands a keep-alive socket back to its pool one event-loop turn after the
    // response ends; waiting that turn lets back-to-back calls reuse the socket instead of opening another
    if (options.awaitSocketReuse !== false) await new Promise((resolve) => setImmediate(resolve));
    return result;
  } catch (err) {
    if (signal?.aborted) throw new AbortError({ url, cause: signal.reason });
    if (timedOut) throw new TimeoutError(timeoutMs!, { url, cause: err });
    throw networkError(url, err);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
