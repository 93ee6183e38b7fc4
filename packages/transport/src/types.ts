/** One HTTP request, as the client hands it to a transport. Always a POST. */
export interface TransportRequest {
  url: string;
  body: string;
  headers?: Record<string, string>;
  /** Aborts the request; the transport rejects with `AbortError`. */
  signal?: AbortSignal;
  /**
   * How long to wait for the answer, in ms; the transport rejects with `TimeoutError`. `fetchTransport` bounds the
   * whole exchange; `undiciTransport` bounds the wait for the headers and for each body chunk (connecting has its own 10 s limit).
   */
  timeoutMs?: number;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Moves bytes over HTTP. Knows nothing of Tencent. */
export interface Transport {
  send(request: TransportRequest): Promise<TransportResponse>;
  /** Releases sockets and other resources. Safe to call twice. */
  close(): Promise<void>;
}
