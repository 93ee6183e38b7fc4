import {
  MAX_MESSAGE_BYTES,
  MAX_TIMER_MS,
  messageBytes,
  numberIssue,
  objectIssue,
  randomFromKey,
  signalIssue,
  unknownOptionIssues,
  type BroadcastRequest,
  type ValidationIssue,
} from '@tim-broadcast/core';
import type { BroadcastQueueOptions, QueueSendOptions } from './queue';

export const QUEUE_TUNING_KEYS = ['coalesce', 'maxQueued', 'maxBytes', 'concurrency', 'deadlineMs'] as const;
const QUEUE_KEYS = ['client', ...QUEUE_TUNING_KEYS];
const SEND_KEYS = ['signal', 'idempotencyKey', 'deadlineMs', 'timeoutMs', 'retry'];
/** The client's retry options (see core's RetryOptions); counts are integers ≥ 1, the rest are ms. */
const RETRY_COUNTS = ['attempts', 'failoverAfter'];
const RETRY_MS = ['baseDelayMs', 'maxDelayMs', 'throttleDelayMs', 'recoverAfterMs'];

const MAX_QUEUED = 10_000_000;
const MAX_CONCURRENCY = 64;
const MAX_ATTEMPTS = 100;

type Issue = ValidationIssue | undefined;

const defined = (issues: Issue[]): ValidationIssue[] => issues.filter((i): i is ValidationIssue => i !== undefined);

export function queueOptionIssues(options: BroadcastQueueOptions): ValidationIssue[] {
  const shape = objectIssue(options, []);
  if (shape) return [shape];
  const issues: Issue[] = [...unknownOptionIssues(options, QUEUE_KEYS)];
  if (typeof (options.client as { broadcast?: unknown } | undefined)?.broadcast !== 'function') {
    issues.push({ path: ['client'], message: 'expected a BroadcastClient' });
  }
  issues.push(...queueTuningIssues(options));
  return defined(issues);
}

/** Issues with coalesce, maxQueued, maxBytes, concurrency and deadlineMs; shared with createBroadcaster. */
export function queueTuningIssues(options: Pick<BroadcastQueueOptions, (typeof QUEUE_TUNING_KEYS)[number]>): ValidationIssue[] {
  const { coalesce, maxQueued, maxBytes, concurrency, deadlineMs } = options;
  return defined([
    coalesce !== undefined && typeof coalesce !== 'boolean' ? { path: ['coalesce'], message: 'expected a boolean' } : undefined,
    numberIssue(maxQueued, ['maxQueued'], 'count', { min: 1, max: MAX_QUEUED }),
    numberIssue(maxBytes, ['maxBytes'], 'bytes', { min: 1, max: MAX_MESSAGE_BYTES }),
    numberIssue(concurrency, ['concurrency'], 'count', { min: 1, max: MAX_CONCURRENCY }),
    numberIssue(deadlineMs, ['deadlineMs'], 'ms', { min: 1 }),
  ]);
}

/** Issues with one send: its options, and the request against the queue's byte budget. */
export function sendIssues(request: BroadcastRequest, call: QueueSendOptions | undefined, maxBytes: number): ValidationIssue[] {
  const issues: Issue[] = [];
  if (call !== undefined) {
    const shape = objectIssue(call, ['options']);
    if (shape) issues.push(shape);
    else {
      const { signal, idempotencyKey, deadlineMs, timeoutMs, retry } = call;
      issues.push(...unknownOptionIssues(call, SEND_KEYS), signalIssue(signal));
      if (idempotencyKey !== undefined) {
        if (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > 1_024) {
          issues.push({ path: ['idempotencyKey'], message: 'expected a non-empty string of at most 1,024 characters' });
        } else if (request.Random !== undefined && request.Random !== randomFromKey(idempotencyKey)) {
          issues.push({ path: ['idempotencyKey'], message: 'give either Random or idempotencyKey, not both' });
        }
      }
      issues.push(numberIssue(deadlineMs, ['deadlineMs'], 'ms', { min: 1 }), numberIssue(timeoutMs, ['timeoutMs'], 'ms', { min: 1 }));
      if (retry !== undefined && retry !== false) {
        const retryShape = objectIssue(retry, ['retry']);
        if (retryShape) issues.push({ ...retryShape, message: `${retryShape.message} or false` });
        else {
          issues.push(...unknownOptionIssues(retry, [...RETRY_COUNTS, ...RETRY_MS], ['retry']));
          const r = retry as Record<string, unknown>;
          for (const name of RETRY_COUNTS) issues.push(numberIssue(r[name], ['retry', name], 'count', { min: 1, max: MAX_ATTEMPTS }));
          for (const name of RETRY_MS) issues.push(numberIssue(r[name], ['retry', name], 'ms', { max: MAX_TIMER_MS }));
        }
      }
    }
  }
  const bytes = messageBytes(request.MsgBody);
  if (bytes > maxBytes) issues.push({ path: ['MsgBody'], message: `MsgBody is ${bytes} bytes; the queue's maxBytes is ${maxBytes} (UTF-8 JSON)` });
  return defined(issues);
}

export function closeOptionIssues(options: { timeoutMs?: number } | undefined): ValidationIssue[] {
  if (options === undefined) return [];
  const shape = objectIssue(options, []);
  if (shape) return [shape];
  return defined([...unknownOptionIssues(options, ['timeoutMs']), numberIssue(options.timeoutMs, ['timeoutMs'], 'ms')]);
}
