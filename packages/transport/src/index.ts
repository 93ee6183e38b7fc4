export type { Transport, TransportRequest, TransportResponse } from './types';
export { TimBroadcastError, TransportError, TimeoutError, AbortError, type TransportErrorOptions } from './errors';
export { fetchTransport, type FetchTransportOptions } from './fetch';
export { safeUrl } from './redact';
