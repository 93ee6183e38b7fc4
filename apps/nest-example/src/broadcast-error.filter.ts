import { Catch, HttpStatus, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiError, formatPath, QueueClosedError, QueueFullError, TimeoutError, TransportError, ValidationError } from '@tim-broadcast/core';

/** Maps the SDK's typed errors to HTTP answers; their messages never hold the secret or a UserSig. */
@Catch(ValidationError, QueueFullError, QueueClosedError, ApiError, TransportError, TimeoutError)
export class BroadcastErrorFilter implements ExceptionFilter {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  catch(error: Error, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const res: unknown = host.switchToHttp().getResponse();
    const [status, body] = answer(error);
    // full: come back shortly; closed: this instance is shutting down, another one can take it
    if (status === HttpStatus.SERVICE_UNAVAILABLE) httpAdapter.setHeader(res, 'retry-after', '1');
    httpAdapter.reply(res, body, status);
  }
}

function answer(error: Error): [HttpStatus, Record<string, unknown>] {
  if (error instanceof ValidationError) {
    return [HttpStatus.BAD_REQUEST, { message: error.message, issues: error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) }];
  }
  if (error instanceof QueueFullError || error instanceof QueueClosedError) return [HttpStatus.SERVICE_UNAVAILABLE, { message: error.message }];
  if (error instanceof TimeoutError) return [HttpStatus.GATEWAY_TIMEOUT, { message: error.message }];
  if (error instanceof ApiError) return [HttpStatus.BAD_GATEWAY, { message: error.message, code: error.code }];
  return [HttpStatus.BAD_GATEWAY, { message: error.message }];
}
