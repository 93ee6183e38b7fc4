import type { RequestFields } from './http';
import { HttpProblem } from './problem';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2 };

/** `'64kb'`, `'1mb'`, `'512b'` or a number of bytes → bytes; undefined when the value is not a size. */
export function parseBodyLimit(limit: unknown): number | undefined {
  if (typeof limit === 'number') return Number.isSafeInteger(limit) && limit > 0 ? limit : undefined;
  if (typeof limit !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb)?\s*$/i.exec(limit);
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]!);
  return bytes > 0 ? bytes : undefined;
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(413, 'payload_too_large', `the request body is larger than the limit of ${limit} bytes`);
}

function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || (type !== undefined && /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type));
}

/**
 * The parsed JSON body. Reads at most `limit` bytes: a declared Content-Length over the limit is refused unread,
 * and a streamed body is dropped (not buffered) as soon as it passes the limit. A body that a parser such as
 * `express.json()` already read is taken from `req.body`.
 */
export async function readJsonBody(req: RequestFields, limit: number): Promise<unknown> {
  if (req._body === true || req.readableEnded) return req.body;
  if (!isJson(req.headers['content-type'])) {
    throw new HttpProblem(415, 'unsupported_media_type', 'send the broadcast as JSON (Content-Type: application/json)');
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new HttpProblem(415, 'unsupported_media_type', 'compressed request bodies are not accepted');
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge(limit);

  const raw = await new Promise<string>((resolve, reject) => {
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
      resolve(Buffer.concat(chunks).toString('utf8'));
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

  if (raw.trim() === '') throw new HttpProblem(400, 'invalid_json', 'the request body is empty; send a JSON object');
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpProblem(400, 'invalid_json', 'the request body is not valid JSON');
  }
}
