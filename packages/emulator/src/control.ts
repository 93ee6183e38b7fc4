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
  reset(): void;
  setFaults(plan: FaultPlan): ResolvedFaultPlan;
  setConfig(config: EmulatorConfig): Required<EmulatorConfig>;
}

type Route = { method: 'GET' | 'POST'; run: (body: unknown) => unknown };

/** The control API: plain HTTP statuses, JSON in and out. Nothing here ever holds a UserSig. */
export async function handleControl(req: IncomingMessage, res: ServerResponse, path: string, target: ControlTarget): Promise<void> {
  const routes: Record<string, Route> = {
    deliveries: { method: 'GET', run: () => ({ deliveries: target.deliveries }) },
    stats: { method: 'GET', run: () => target.stats },
    reset: {
      method: 'POST',
      run: () => {
        target.reset();
        return { ok: true };
      },
    },
    faults: { method: 'POST', run: (body) => ({ faults: target.setFaults(body as FaultPlan) }) },
    config: {
      method: 'POST',
      // JSON has no Infinity: `ratePerSecond: null` means no limit, and is how an unlimited rate is shown.
      run: (body) => {
        const input = body && typeof body === 'object' && (body as EmulatorConfig).ratePerSecond === null ? { ...body, ratePerSecond: Infinity } : body;
        return { config: target.setConfig(input as EmulatorConfig) };
      },
    },
  };

  const name = path.slice(CONTROL_PREFIX.length);
  const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
  const raw = await readBody(req, MAX_CONTROL_BODY);
  if (!route) return sendJson(res, 404, { error: `unknown control path ${path}; see ${Object.keys(routes).map((r) => CONTROL_PREFIX + r).join(', ')}` });
  if (req.method !== route.method) return sendJson(res, 405, { error: `${path} takes ${route.method}` }, { allow: route.method });
  if (raw === null) return sendJson(res, 413, { error: `body larger than ${MAX_CONTROL_BODY} bytes` });

  let body: unknown;
  try {
    body = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return sendJson(res, 400, { error: 'body is not valid JSON' });
  }
  try {
    sendJson(res, 200, route.run(body));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    sendJson(res, 400, { error: err.message, issues: err.issues.map((i) => ({ path: i.path.map(String), message: i.message })) });
  }
}
