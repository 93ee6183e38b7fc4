import { numberIssue, objectIssue, signalIssue, throwIfIssues } from './options';
import type { TransportRequest } from './types';
import type { ValidationIssue } from './validation';

/**
 * Checks what a transport is handed before anything is sent: a timer that cannot hold `timeoutMs` would fire at
 * once or never, and a `signal` that is not an AbortSignal would throw from inside a timer. Throws ValidationError.
 */
export function checkTransportRequest(request: TransportRequest): void {
  // the common case (the client's own requests) costs a few comparisons
  if (
    typeof request === 'object' &&
    request !== null &&
    typeof request.url === 'string' &&
    typeof request.body === 'string' &&
    (request.signal === undefined || request.signal instanceof AbortSignal) &&
    (request.timeoutMs === undefined || (typeof request.timeoutMs === 'number' && request.timeoutMs > 0 && request.timeoutMs <= 2_147_483_647)) &&
    (request.headers === undefined || (typeof request.headers === 'object' && request.headers !== null))
  ) {
    return;
  }
  const issues: (ValidationIssue | undefined)[] = [objectIssue(request, [])];
  if (!issues[0]) {
    const { url, body, headers, signal, timeoutMs } = request as unknown as Record<string, unknown>;
    if (typeof url !== 'string') issues.push({ path: ['url'], message: 'expected a URL string' });
    if (typeof body !== 'string') issues.push({ path: ['body'], message: 'expected a string' });
    issues.push(objectIssue(headers, ['headers'], true), signalIssue(signal), numberIssue(timeoutMs, ['timeoutMs'], 'ms', { minInclusive: false }));
  }
  throwIfIssues('invalid transport request', issues);
}
