import { objectIssue, throwIfIssues, unknownOptionIssues, type ValidationIssue } from '@tim-broadcast/core';
import type { Broadcaster, BroadcasterHealth } from '@tim-broadcast/rate-limit';
import type { BroadcastApps } from './apps';
import { sendJson, type RequestFields, type RequestHandlerLike } from './http';

export interface HealthHandlerOptions {
  /** The broadcaster to report on; leave it out when `broadcastMiddleware()` runs earlier. */
  broadcast?: Broadcaster;
  /** With a several-app middleware: report on this app only (default: every app). */
  app?: string;
}

/** What the handler answers for a several-app middleware: every app's health, `down` when any is. */
export interface AppsHealth {
  status: 'up' | 'down';
  apps: Record<string, BroadcasterHealth>;
}

/**
 * A handler answering the broadcaster's health as JSON: 200 when `status` is `'up'`, 503 when `'down'`
 * (closed, or the rate-limit store failing). Mount it with `app.get('/health', createHealthHandler())`.
 * Behind a several-app middleware it answers `{ status, apps: { <name>: health } }` (or one app's, with `app`).
 */
export function createHealthHandler(options: HealthHandlerOptions = {}): RequestHandlerLike {
  throwIfIssues('invalid health handler options', [objectIssue(options, [])]);
  const issues: ValidationIssue[] = unknownOptionIssues(options, ['broadcast', 'app']);
  const { broadcast, app } = options;
  if (broadcast !== undefined && typeof broadcast?.health !== 'function') {
    issues.push({ path: ['broadcast'], message: 'expected a Broadcaster from createBroadcaster()' });
  }
  if (app !== undefined && (typeof app !== 'string' || broadcast !== undefined)) {
    issues.push({ path: ['app'], message: broadcast !== undefined ? 'cannot be combined with broadcast' : 'expected an app name' });
  }
  throwIfIssues('invalid health handler options', issues);

  return (req, res, next) => {
    const fields = req as RequestFields;
    const apps = fields.broadcasts as BroadcastApps | undefined;
    let health: BroadcasterHealth | AppsHealth;
    try {
      if (broadcast) health = broadcast.health();
      else if (app !== undefined && apps) health = apps.get(app).health();
      else if (apps && apps.names.length > 1) {
        const each = Object.fromEntries(apps.names.map((name) => [name, apps.get(name).health()]));
        health = { status: Object.values(each).every((h) => h.status === 'up') ? 'up' : 'down', apps: each };
      } else if (fields.broadcast) health = (fields.broadcast as Broadcaster).health();
      else throw new Error('no broadcaster: use broadcastMiddleware() before the health handler, or pass { broadcast }');
    } catch (err) {
      next(err);
      return;
    }
    sendJson(res, health.status === 'up' ? 200 : 503, health);
  };
}
