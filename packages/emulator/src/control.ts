import type { IncomingMessage, ServerResponse } from 'node:http';
import { ValidationError } from '@tim-broadcast/core';
import type { FaultPlan, ResolvedFaultPlan } from './faults';
import { readBody, sendJson } from './http-util';
import type { EmulatorConfig } from './options';
import type { Delivery, EmulatorStats } from './records';

export const CONTROL_PREFIX = '/__emulator/';
const MAX_CONTROL_BODY = 64 * 1024;

export interface ControlTarget {
  readonly deliveries: Delivery[];
  readonly stats: EmulatorStats;
  readonly faults: ResolvedFaultPlan;
  readonly config: Required<EmulatorConfig>;
  reset(): void;
  setFaults(plan: FaultPlan): ResolvedFaultPlan;
  setConfig(config: EmulatorConfig): Required<EmulatorConfig>;
}

type Route = { GET?: () => unknown; POST?: (body: unknown) => unknown };

/**
 * Whether a POST's Content-Type is JSON in UTF-8. Requiring it keeps other sites out: a page can send a cross-site
 * POST only as a "simple" request (text/plain, a form), and anything else needs a CORS preflight this server refuses.
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const [type, ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((param) => !param.startsWith('charset=') || /^charset="?utf-8"?$/.test(param));
}

/**
 * The control API: plain HTTP statuses, JSON in and out. Nothing here ever holds a UserSig. The caller has checked
 * the Host header; POSTs must be `application/json` (415 otherwise).
 */
export async function handleControl(req: IncomingMessage, res: ServerResponse, path: string, target: ControlTarget): Promise<void> {
  const routes: Record<string, Route> = {
    deliveries: { GET: () => ({ deliveries: target.deliveries }) },
    stats: { GET: () => target.stats },
    reset: {
      POST: () => {
        target.reset();
        return { ok: true };
      },
    },
    faults: { GET: () => ({ faults: target.faults }), POST: (body) => ({ faults: target.setFaults(body as FaultPlan) }) },
    config: {
      GET: () => ({ config: target.config }),
      // JSON has no Infinity: `ratePerSecond: null` means no limit, and is how an unlimited rate is shown.
      POST: (body) => {
        const input = body && typeof body === 'object' && (body as EmulatorConfig).ratePerSecond === null ? { ...body, ratePerSecond: Infinity } : body;
        return { config: target.setConfig(input as EmulatorConfig) };
      },
    },
  };

  const name = path.slice(CONTROL_PREFIX.length);
  const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
  const raw = await readBody(req, MAX_CONTROL_BODY);
  if (!route) return sendJson(res, 404, { error: `unknown control path ${path}; see ${Object.keys(routes).map((r) => CONTROL_PREFIX + r).join(', ')}` });
  const method = req.method === 'GET' || req.method === 'POST' ? req.method : undefined;
  const run = method && route[method];
  if (!run) {
    const allow = (['GET', 'POST'] as const).filter((m) => route[m]).join(', ');
    return sendJson(res, 405, { error: `${path} takes ${allow}` }, { allow });
  }
  if (method === 'POST' && !isJsonContentType(req.headers['content-type'])) {
    return sendJson(res, 415, { error: 'control requests must be sent with content-type: application/json' });
  }
  if (raw === null) return sendJson(res, 413, { error: `body larger than ${MAX_CONTROL_BODY} bytes` });

  let body: unknown;
  try {
    body = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return sendJson(res, 400, { error: 'body is not valid JSON' });
  }
  try {
    sendJson(res, 200, run(body));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    sendJson(res, 400, { error: err.message, issues: err.issues.map((i) => ({ path: i.path.map(String), message: i.message })) });
  }
}
