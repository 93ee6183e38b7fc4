import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BROADCAST_PATH } from '@tim-broadcast/core';
import { systemClock } from './clock';
import { CONTROL_PREFIX, handleControl, type ControlTarget } from './control';
import { EventHub } from './dashboard/events';
import { DASHBOARD_PATHS, serveDashboardAsset } from './dashboard/page';
import { BroadcastEndpoint, type Answer } from './endpoint';
import { FaultInjector, resolveFaultPlan, type FaultKind, type FaultPlan, type ResolvedFaultPlan } from './faults';
import { readBody, sendJson } from './http-util';
import { validate } from './validate';
import { isAllowedHost } from './host-check';
import { configSchema, validateOptions, type CallEvent, type EmulatorConfig, type EmulatorOptions } from './options';
import { combineStats, DEFAULT_MAX_DELIVERIES, Recorder, type Delivery, type EmulatorStats } from './records';

interface ServedApp {
  endpoint: BroadcastEndpoint;
  recorder: Recorder;
}

/** Bodies above this are answered 10004 without being parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Deliveries the dashboard receives when it connects (the newest). */
export const DASHBOARD_BACKLOG = 200;
/** Refused, duplicate and faulted calls the dashboard receives when it connects (the newest). */
const ACTIVITY_BACKLOG = 50;

const GROUP_SERVICE_PREFIX = '/v4/group_open_http_svc/';
const BAD_GATEWAY_HTML = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';

export interface Emulator {
  /** Base URL to give a client (`baseUrl`), e.g. `http://127.0.0.1:41234`; `GET /` there is the dashboard. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** A copy of the recorded deliveries, oldest first (at most `maxDeliveries` per app). */
  readonly deliveries: Delivery[];
  /** A snapshot of the counters (of every app together, see `appStats`). */
  readonly stats: EmulatorStats;
  /** The SDKAppIDs served: the top-level one first, then `apps`. */
  readonly sdkAppIds: number[];
  /** One app's counters (undefined for an SDKAppID not served). */
  appStats(sdkAppId: number): EmulatorStats | undefined;
  /** The current fault plan (what is left of its script included). */
  readonly faults: ResolvedFaultPlan;
  /** The current run-time config. */
  readonly config: Required<EmulatorConfig>;
  /** Replaces the fault plan (script and PRNG start afresh); returns it with defaults filled in. */
  setFaults(plan: FaultPlan): ResolvedFaultPlan;
  /** Changes `broadcastEnabled`, `ratePerSecond` and/or `rateModel` while running; returns the whole config. */
  setConfig(config: EmulatorConfig): Required<EmulatorConfig>;
  /** Forgets deliveries, counters, the dedup window and the rate window; keeps config, faults and the MsgSeq counter. */
  reset(): void;
  /** Stops listening and drops every connection (keep-alive ones and pending slow answers included). */
  close(): Promise<void>;
}

/** Starts a local send_broadcast_msg endpoint. Rejects with a ValidationError naming any bad option. */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const opts = validateOptions(options);
  const clock = opts.clock ?? systemClock;
  const host = opts.host ?? '127.0.0.1';
  const config = {
    ratePerSecond: opts.ratePerSecond ?? 1,
    rateModel: opts.rateModel ?? 'window',
    broadcastEnabled: opts.broadcastEnabled ?? true,
  } as const;
  /** Every app served, by its SDKAppID as the query spells it; the first is the one of the top-level options. */
  const apps = new Map<string, ServedApp>();
  const named = opts.apps !== undefined && opts.apps.length > 0;
  for (const app of [{ sdkAppId: opts.sdkAppId, secretKey: opts.secretKey, admin: opts.admin }, ...(opts.apps ?? [])]) {
    const recorder = new Recorder(opts.maxDeliveries ?? DEFAULT_MAX_DELIVERIES);
    apps.set(String(app.sdkAppId), { recorder, endpoint: new BroadcastEndpoint({ ...app, ...config, named }, recorder) });
  }
  const main = apps.get(String(opts.sdkAppId))!;
  const served = [...apps.values()];
  const endpoint = main.endpoint;
  let faults = new FaultInjector(opts.faults!);
  const slowAnswers = new Set<NodeJS.Timeout>();

  const control: ControlTarget = {
    get deliveries() {
      if (served.length === 1) return main.recorder.deliveries();
      return served.flatMap((app) => app.recorder.deliveries()).sort((a, b) => a.at - b.at);
    },
    get stats() {
      if (served.length === 1) return main.recorder.stats(faults.seed, endpoint.lastMsgSeq);
      return combineStats(served.map((app) => app.recorder.stats(faults.seed, app.endpoint.lastMsgSeq)));
    },
    get faults() {
      return faults.current;
    },
    get config() {
      return { broadcastEnabled: endpoint.broadcastEnabled, ratePerSecond: endpoint.ratePerSecond, rateModel: endpoint.rateModel };
    },
    reset() {
      for (const app of served) {
        app.recorder.clear();
        app.endpoint.reset();
      }
      activity.length = 0;
      hub.resync();
    },
    setFaults(plan) {
      faults = new FaultInjector(resolveFaultPlan(plan));
      hub.send('settings', settings);
      return faults.current;
    },
    setConfig(config) {
      const next = validate<EmulatorConfig>(configSchema, config ?? {}, 'invalid emulator config');
      for (const { endpoint } of served) {
        if (next.broadcastEnabled !== undefined) endpoint.broadcastEnabled = next.broadcastEnabled;
        if (next.ratePerSecond !== undefined) endpoint.ratePerSecond = next.ratePerSecond;
        if (next.rateModel !== undefined) endpoint.rateModel = next.rateModel;
      }
      hub.send('settings', settings);
      return control.config;
    },
  };

  // JSON has no Infinity; the dashboard, like the control API, reads null as "no limit".
  const settings = () => ({ config: control.config, faults: control.faults, stats: control.stats });
  const activity: CallEvent[] = [];
  const hub = new EventHub(() => ({
    app: { sdkAppId: opts.sdkAppId, admin: opts.admin },
    deliveries: control.deliveries.slice(-DASHBOARD_BACKLOG),
    activity,
    ...settings(),
  }));

  function report(event: CallEvent, delivery?: Delivery): void {
    if (event.code !== 0 || event.duplicate || event.fault) {
      activity.push(event);
      if (activity.length > ACTIVITY_BACKLOG) activity.shift();
    }
    hub.send('call', () => ({ call: event, delivery, stats: control.stats }));
    if (!opts.onCall) return;
    try {
      opts.onCall(event);
    } catch (err) {
      process.emitWarning(`tim-broadcast emulator: onCall threw: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  async function broadcast(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    const body = await readBody(req, MAX_BODY_BYTES);
    const method = req.method ?? 'GET';
    const params = new URLSearchParams(query);
    // the app the call names; a call naming none goes to the first, whose checks answer it (60006 and friends)
    const app = apps.get(params.get('sdkappid') ?? '');
    const { recorder, endpoint } = app ?? main;
    const sdkAppId = named && app ? app.endpoint.sdkAppId : undefined;
    recorder.request();
    const fault: FaultKind | undefined = faults.next();
    if (fault) recorder.fault(fault);
    const at = clock.now();

    if (fault === 'reset') {
      report({ at, method, ...(sdkAppId === undefined ? {} : { sdkAppId }), fault });
      req.socket.resetAndDestroy();
      return;
    }
    if (fault === 'http502') {
      report({ at, method, ...(sdkAppId === undefined ? {} : { sdkAppId }), fault });
      res.writeHead(502, { 'content-type': 'text/html', 'content-length': String(BAD_GATEWAY_HTML.length) });
      res.end(BAD_GATEWAY_HTML);
      return;
    }

    let answer: Answer;
    if (fault === 'error10002' || fault === 'throttle10023') {
      answer = fault === 'error10002' ? { code: 10002, info: 'internal server error (injected fault)' } : { code: 10023, info: 'message frequency limit reached (injected fault)' };
      recorder.reject(answer.code);
    } else {
      answer = endpoint.handle({ method, query: params, body, at });
    }
    report({ at, method, ...(sdkAppId === undefined ? {} : { sdkAppId }), fault, code: answer.code, info: answer.info, MsgSeq: answer.MsgSeq, duplicate: answer.duplicate }, answer.delivery);

    if (fault === 'lostAnswer') {
      req.socket.destroy();
    } else if (fault === 'slow') {
      const timer = setTimeout(() => {
        slowAnswers.delete(timer);
        sendEnvelope(res, answer);
      }, faults.slowMs);
      slowAnswers.add(timer);
      res.on('close', () => {
        clearTimeout(timer);
        slowAnswers.delete(timer);
      });
    } else {
      sendEnvelope(res, answer);
    }
  }

  async function other(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    await readBody(req, MAX_BODY_BYTES);
    if (path.startsWith(GROUP_SERVICE_PREFIX)) return sendEnvelope(res, { code: 10003, info: 'invalid command word: this emulator serves send_broadcast_msg only' });
    sendEnvelope(res, { code: 60009, info: `bad request resource: this emulator serves ${BROADCAST_PATH} only` });
  }

  // The control API and the dashboard answer only to this machine's names (see isAllowedHost).
  async function local(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!isAllowedHost(req.headers.host, host, opts.allowedHosts)) {
      req.resume();
      const name = (req.headers.host ?? '').slice(0, 100);
      return sendJson(res, 403, { error: `Host ${JSON.stringify(name)} is not allowed; add it to the allowedHosts option (CLI --allowed-hosts) to reach the control API and dashboard by that name` });
    }
    if (serveDashboardAsset(req, res, path)) return;
    if (path === DASHBOARD_PATHS.events) return hub.open(req, res);
    return handleControl(req, res, path, control);
  }

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const handled =
      path === BROADCAST_PATH
        ? broadcast(req, res, q === -1 ? '' : url.slice(q + 1))
        : path === DASHBOARD_PATHS.page || path.startsWith(CONTROL_PREFIX)
          ? local(req, res, path)
          : other(req, res, path);
    handled.catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendJson(res, 500, { error: `emulator failure: ${(err as Error)?.message ?? String(err)}` });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    host,
    get deliveries() {
      return control.deliveries;
    },
    get stats() {
      return control.stats;
    },
    sdkAppIds: served.map((app) => app.endpoint.sdkAppId),
    appStats(sdkAppId) {
      const app = apps.get(String(sdkAppId));
      return app?.recorder.stats(faults.seed, app.endpoint.lastMsgSeq);
    },
    get faults() {
      return control.faults;
    },
    get config() {
      return control.config;
    },
    setFaults: control.setFaults,
    setConfig: control.setConfig,
    reset: control.reset,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of slowAnswers) clearTimeout(timer);
        slowAnswers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function sendEnvelope(res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return;
  const payload: Record<string, unknown> = { ActionStatus: answer.code === 0 ? 'OK' : 'FAIL', ErrorInfo: answer.info, ErrorCode: answer.code };
  if (answer.MsgSeq !== undefined) payload.MsgSeq = answer.MsgSeq;
  sendJson(res, 200, payload, { 'access-control-allow-origin': '*' });
}
