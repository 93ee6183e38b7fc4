import { TimBroadcastError } from '@tim-broadcast/core';
import type { AppOutbox, Broadcaster, HttpErrorDescription, Outbox } from '@tim-broadcast/rate-limit';

/** The broadcasters (and outboxes) of one `broadcastMiddleware()`, by app name (`req.broadcasts`). */
export interface BroadcastApps {
  /** The broadcaster of app `name`; throws `UnknownAppError` (404 from the router) for a name that is not configured. */
  get(name: string): Broadcaster;
  /** The outbox of app `name`, when it has the `outbox` option; throws `UnknownAppError` for a name that is not configured. */
  outbox(name: string): Outbox | undefined;
  has(name: string): boolean;
  /** The configured names, in the order given (`['default']` for a single-app middleware). */
  readonly names: readonly string[];
}

/** No app of that name is configured in `broadcastMiddleware({ apps })`. The router answers 404 `unknown_app`. */
export class UnknownAppError extends TimBroadcastError {
  override name = 'UnknownAppError';
  readonly app: string;

  constructor(app: string) {
    super(`no broadcast app named ${JSON.stringify(app.slice(0, 64))}`);
    this.app = app;
  }

  /** Read by `httpErrorResponse` (the mapping shared with the Nest filter). */
  get http(): HttpErrorDescription {
    return { status: 404, error: 'unknown_app', message: this.message };
  }
}

/** One configured app: its broadcaster, and its outbox once opened. */
export interface AppEntry {
  broadcaster: Broadcaster;
  outbox?: AppOutbox;
}

export function appsOf(entries: ReadonlyMap<string, AppEntry>): BroadcastApps {
  const names = Object.freeze([...entries.keys()]);
  const entry = (name: string) => {
    const found = entries.get(name);
    if (!found) throw new UnknownAppError(name);
    return found;
  };
  return {
    names,
    has: (name) => entries.has(name),
    get: (name) => entry(name).broadcaster,
    outbox: (name) => entry(name).outbox?.outbox,
  };
}
