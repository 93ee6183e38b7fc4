import { numberIssue, signalIssue, throwIfIssues } from './options';

/** Waits `ms`, or rejects with the signal's reason as soon as it fires. Bad arguments reject with ValidationError. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (typeof ms !== 'number' || !(ms >= 0 && ms <= 2_147_483_647) || (signal !== undefined && !(signal instanceof AbortSignal))) {
      try {
        throwIfIssues('invalid sleep arguments', [numberIssue(ms, ['ms'], 'ms') ?? (ms === undefined ? { path: ['ms'], message: 'required' } : undefined), signalIssue(signal)]);
      } catch (err) {
        return reject(err);
      }
    }
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
