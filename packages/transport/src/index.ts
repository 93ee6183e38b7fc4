export type { Transport, TransportRequest, TransportResponse } from './types';
export { TimBroadcastError, TransportError, TimeoutError, AbortError, type TransportErrorOptions } from './errors';
export { ValidationError, formatPath, type ValidationIssue } from './validation';
export { fetchTransport, type FetchTransportOptions } from './fetch';
export { safeUrl, redactUserSig } from './redact';
export {
  MAX_TIMER_MS,
  closestName,
  unknownOptionIssues,
  numberIssue,
  signalIssue,
  objectIssue,
  describeValue,
  throwIfIssues,
  type NumberRule,
} from './options';
