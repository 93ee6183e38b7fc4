import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BROADCAST_PATH } from '@tim-broadcast/core';
import { systemClock } from './clock';
import { CONTROL_PREFIX, handleControl, type ControlTarget } from './control';
import { BroadcastEndpoint, type Answer } from './endpoint';
import { FaultInjector, resolveFaultPlan, type FaultKind, type FaultPlan, type ResolvedFaultPlan } from './faults';
import { readBody, sendJson } from './http-util';
import { configSchema, validate, validateOptions, type CallEvent, type EmulatorConfig, type EmulatorOptions } from './options';
import { DEFAULT_MAX_DELIVERIES, Recorder, type Delivery, type EmulatorStats } from './records';

/** Bodies above this are answered 10004 without being parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;

const GROUP_SERVICE_PREFIX = '/v4/group_open_http_svc/';
const BAD_GATEWAY_HTML = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';

export interface Emulator {
  /** Base URL to give a client (`baseUrl`), e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** A copy of the recorded deliveries, oldest first (at most `maxDeliveries`). */
  readonly deliveries: Delivery[];
  /** A snapshot of the counters. */
  readonly stats: EmulatorStats;
  /** Replaces the fault plan (script and PRNG start afresh); returns it with defaults filled in. */
  setFaults(plan: FaultPlan): ResolvedFaultPlan;
  /** Changes `broadcastEnabled` and/or `ratePerSecond` while running; returns the whole config. */
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
  const recorder = new Recorder(opts.maxDeliveries ?? DEFAULT_MAX_DELIVERIES);
  const endpoint = new BroadcastEndpoint(
    {
      sdkAppId: opts.sdkAppId,
      secretKey: opts.secretKey,
      admin: opts.admin,
      ratePerSecond: opts.ratePerSecond ?? 1,
      broadcastEnabled: opts.broadcastEnabled ?? true,
    },
    clock,
    recorder,
  );
  let faults = new FaultInjector(resolveFaultPlan(opts.faults));
  const slowAnswers = new Set<NodeJS.Timeout>();

  const control: ControlTarget = {
    get deliveries() {
      return recorder.deliveries();
    },
    get stats() {
      return recorder.stats(faults.seed, endpoint.lastMsgSeq);
    },
    reset() {
      recorder.clear();
      endpoint.reset();
    },
    setFaults(plan) {
      faults = new FaultInjector(resolveFaultPlan(plan));
      return faults.current;
    },
    setConfig(config) {
      const next = validate(configSchema, config ?? {}, 'invalid emulator config');
      if (next.broadcastEnabled !== undefined) endpoint.broadcastEnabled = next.broadcastEnabled;
      if (next.ratePerSecond !== undefined) endpoint.ratePerSecond = next.ratePerSecond;
      return { broadcastEnabled: endpoint.broadcastEnabled, ratePerSecond: endpoint.ratePerSecond };
    },
  };

  function report(event: CallEvent): void {
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
    recorder.request();
    const fault: FaultKind | undefined = faults.next();
    if (fault) recorder.fault(fault);
    const at = clock.now();

    if (fault === 'reset') {
      report({ at, method, fault });
      req.socket.resetAndDestroy();
      return;
    }
    if (fault === 'http502') {
      report({ at, method, fault });
      res.writeHead(502, { 'content-type': 'text/html', 'content-length': String(BAD_GATEWAY_HTML.length) });
      res.end(BAD_GATEWAY_HTML);
      return;
    }

    let answer: Answer;
    if (fault === 'error10002' || fault === 'throttle10023') {
      answer = fault === 'error10002' ? { code: 10002, info: 'internal server error (injected fault)' } : { code: 10023, info: 'message frequency limit reached (injected fault)' };
      recorder.reject(answer.code);
    } else {
      answer = endpoint.handle({ method, query: new URLSearchParams(query), body });
    }
    report({ at, method, fault, code: answer.code, info: answer.info, MsgSeq: answer.MsgSeq, duplicate: answer.duplicate });

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

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const handled =
      path === BROADCAST_PATH
        ? broadcast(req, res, q === -1 ? '' : url.slice(q + 1))
        : path.startsWith(CONTROL_PREFIX)
          ? handleControl(req, res, path, control)
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
