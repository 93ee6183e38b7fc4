import type { Logger } from '@tim-broadcast/core';

/** Hooks report what *this process* did; a broadcast enqueued here may be delivered by another process. */
export interface OutboxHooks {
  /** Redis holds it. */
  onEnqueued?(event: { id: string; state: 'queued' | 'scheduled'; enqueuedAt: number; expiresAt: number; sendAt?: number }): void;
  /** A batch is about to be sent (attempt 1) or re-sent with the same Random (attempt > 1). */
  onSending?(event: { batchId: string; ids: string[]; Random: number; batchSize: number; attempt: number }): void;
  onDelivered?(event: { batchId: string; ids: string[]; MsgSeq: number; Random: number; batchSize: number; attempt: number }): void;
  /** The API refused it for good, sent alone (or it no longer parses). */
  onFailed?(event: { id: string; error: Error }): void;
  /** Its deadline passed before it was sent. */
  onExpired?(event: { ids: string[] }): void;
  /** A call carrying them may have arrived and they can no longer be re-sent safely. */
  onUncertain?(event: { batchId: string; ids: string[]; reason: string }): void;
  /** This deliverer took over the work of deliverers that stopped answering (`from`: their names). */
  onReclaimed?(event: { ids: string[]; batches: number; from: string[] }): void;
}

export type Emit = <K extends keyof OutboxHooks>(name: K, event: Parameters<NonNullable<OutboxHooks[K]>>[0]) => void;

/** Calls a hook; a hook that throws is logged, never breaks delivery. */
export function emitter(hooks: OutboxHooks, logger: Logger | undefined): Emit {
  return (name, event) => {
    const hook = hooks[name] as ((e: typeof event) => void) | undefined;
    if (!hook) return;
    try {
      hook(event);
    } catch (err) {
      logger?.error?.(`tim-broadcast outbox: ${name} hook threw`, { error: err instanceof Error ? err.message : String(err) });
    }
  };
}
