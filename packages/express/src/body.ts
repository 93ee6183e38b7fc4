import type { RequestFields } from './http';
import { HttpProblem } from './problem';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2 };

/**
 * The largest `bodyLimit`: 1 MiB. A broadcast's MsgBody is at most 12,000 bytes, so even fully escaped JSON stays far
 * below it; a larger limit would only let callers make the router buffer more.
 */
export const MAX_BODY_LIMIT = 1024 ** 2;

/** `'64kb'`, `'1mb'`, `'512b'` or a number of bytes → bytes; undefined when the value is not a size from 1 b to 1 MiB. */
export function parseBodyLimit(limit: unknown): number | undefined {
  let bytes: number;
  if (typeof limit === 'number') bytes = limit;
  else if (typeof limit === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb)?\s*$/i.exec(limit);
    if (!match) return undefined;
    bytes = Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]!);
  } else return undefined;
  return Number.isSafeInteger(bytes) && bytes > 0 && bytes <= MAX_BODY_LIMIT ? bytes : undefined;
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(413, 'payload_too_large', `the request body is larger than the limit of ${limit} bytes`);
}

function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || (type !== undefined && /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type));
}

/** The `charset` parameter of a Content-Type, lower-cased, if any. */
function charsetOf(contentType: string): string | undefined {
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? '').toLowerCase() : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The parsed JSON body. Reads at most `limit` bytes: a declared Content-Length over the limit is refused unread,
 * and a streamed body is dropped (not buffered) as soon as it passes the limit. A body that a parser such as
 * `express.json()` already read is taken from `req.body`.
 */
export async function readJsonBody(req: RequestFields, limit: number): Promise<unknown> {
  if (req._body === true || req.readableEnded) return req.body;
  const contentType = req.headers['content-type'];
  if (!isJson(contentType)) {
    throw new HttpProblem(415, 'unsupported_media_type', 'send the broadcast as JSON (Content-Type: application/json)');
  }
  const charset = charsetOf(contentType!);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    // decoding it as UTF-8 would broadcast mangled text
    throw new HttpProblem(415, 'unsupported_media_type', 'send the broadcast as UTF-8 JSON (Content-Type: application/json; charset=utf-8)');
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new HttpProblem(415, 'unsupported_media_type', 'compressed request bodies are not accepted');
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge(limit);

  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // keep the connection usable: the rest is read and thrown away, never buffered
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    function cleanup() {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });

  let raw: string;
  try {
    raw = utf8.decode(bytes);
  } catch {
    throw new HttpProblem(400, 'invalid_encoding', 'the request body is not valid UTF-8');
  }
  if (raw.trim() === '') throw new HttpProblem(400, 'invalid_json', 'the request body is empty; send a JSON object');
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpProblem(400, 'invalid_json', 'the request body is not valid JSON');
  }
}
