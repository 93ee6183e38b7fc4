import type { Logger } from '@tim-broadcast/core';
import type { OutboxHooks } from '@tim-broadcast/rate-limit';

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
