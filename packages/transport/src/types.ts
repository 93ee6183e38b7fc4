/** One HTTP request, as the client hands it to a transport. Always a POST. */
export interface TransportRequest {
  url: string;
  body: string;
  headers?: Record<string, string>;
  /** Aborts the request; the transport rejects with `AbortError`. */
  signal?: AbortSignal;
  /**
   * How long the whole exchange may take, in ms (> 0 and ≤ 2^31−1); the transport rejects with `TimeoutError`,
   * within a few ms of it. Both transports run their own timer.
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
