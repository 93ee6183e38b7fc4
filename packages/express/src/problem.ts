/** An HTTP answer the router decided on before reaching the broadcaster (auth, body, content type). */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly status: number;
  readonly error: string;
  readonly headers: Record<string, string>;

  constructor(status: number, error: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.error = error;
    this.headers = headers;
  }
}
