import { checkBody, checkQuery, type Rejection } from './checks';
import { DedupStore, dedupKey } from './dedup';
import { RateWindow } from './rate-window';
import type { RateModel } from './options';
import type { Delivery, Recorder } from './records';
import { SignatureCache } from './signature-cache';

/** What the endpoint answers: ErrorCode 0 with a MsgSeq, or a rejection. */
export interface Answer {
  code: number;
  info: string;
  MsgSeq?: number;
  duplicate?: boolean;
  /** The delivery recorded by this call (a new MsgSeq). */
  delivery?: Delivery;
}

export interface EndpointConfig {
  sdkAppId: number;
  secretKey: string;
  admin: string;
  ratePerSecond: number;
  rateModel: RateModel;
  broadcastEnabled: boolean;
  /** Name the app in each delivery (the emulator serves several). */
  named?: boolean;
}

export interface IncomingCall {
  method: string;
  query: URLSearchParams;
  /** The raw body, or null when it was over the size limit. */
  body: string | null;
  /** When the call arrived (the emulator's clock): one time for its checks, its delivery and its call event. */
  at: number;
}

/**
 * The behaviour of send_broadcast_msg, without HTTP: checks, rate limit, dedup, delivery. `handle` is
 * synchronous, so each call is decided atomically at its arrival time (`at`).
 */
export class BroadcastEndpoint {
  private readonly signatures: SignatureCache;
  private readonly rate: RateWindow;
  private readonly dedup = new DedupStore();
  private msgSeq = 0;
  broadcastEnabled: boolean;

  constructor(
    private readonly config: EndpointConfig,
    private readonly recorder: Recorder,
  ) {
    this.signatures = new SignatureCache(config.sdkAppId, config.secretKey);
    this.rate = new RateWindow(config.ratePerSecond, config.rateModel);
    this.broadcastEnabled = config.broadcastEnabled;
  }

  get ratePerSecond(): number {
    return this.rate.limit;
  }

  set ratePerSecond(limit: number) {
    this.rate.limit = limit;
  }

  get rateModel(): RateModel {
    return this.rate.model;
  }

  set rateModel(model: RateModel) {
    this.rate.model = model;
  }

  get sdkAppId(): number {
    return this.config.sdkAppId;
  }

  get lastMsgSeq(): number {
    return this.msgSeq;
  }

  handle(call: IncomingCall): Answer {
    const answer = this.decide(call);
    if (answer.code !== 0) this.recorder.reject(answer.code);
    return answer;
  }

  reset(): void {
    this.rate.clear();
    this.dedup.clear();
  }

  private decide(call: IncomingCall): Answer {
    const now = call.at;
    if (call.method !== 'POST') return { code: 60002, info: 'HTTP parse error: only POST is accepted' };

    const refused = checkQuery(call.query, { sdkAppId: this.config.sdkAppId, admin: this.config.admin, signatures: this.signatures, now });
    if (refused) return refused;
    if (!this.broadcastEnabled) {
      return { code: 10007, info: 'no permission: broadcast messaging of audio-video groups is not enabled for this app' };
    }
    if (this.rate.isFull(now)) {
      const rule = this.rate.model === 'spacing' ? `one call per ${+(1000 / this.rate.limit).toFixed(3)} ms` : `${this.rate.limit}/s`;
      return { code: 10023, info: `message frequency limit reached (${rule}); retry later` };
    }

    const checked = checkBody(call.body);
    if (isRejection(checked)) return checked;

    const { request, bytes } = checked;
    const key = dedupKey(request);
    const earlier = this.dedup.find(key, now);
    if (earlier !== undefined) {
      this.recorder.duplicate();
      return { code: 0, info: '', MsgSeq: earlier, duplicate: true };
    }

    const MsgSeq = ++this.msgSeq;
    this.dedup.remember(key, MsgSeq, now);
    const delivery: Delivery = { ...(this.config.named ? { sdkAppId: this.config.sdkAppId } : {}), MsgSeq, Random: request.Random, at: now, body: request, bytes };
    this.recorder.deliver(delivery, this.rate.add(now));
    return { code: 0, info: '', MsgSeq, delivery };
  }
}

function isRejection(value: object): value is Rejection {
  return 'code' in value;
}
