import { objectIssue, throwIfIssues, unknownOptionIssues, type ValidationIssue } from '@tim-broadcast/core';
import type { Broadcaster, BroadcasterHealth, Outbox, OutboxHealth } from '@tim-broadcast/rate-limit';
import type { BroadcastApps } from './apps';
import { sendJson, type RequestFields, type RequestHandlerLike } from './http';

export interface HealthHandlerOptions {
  /** The broadcaster to report on; leave it out when `broadcastMiddleware()` runs earlier. */
  broadcast?: Broadcaster;
  /** With a several-app middleware: report on this app only (default: every app). */
  app?: string;
}

/** One app's health: its broadcaster's, and with an outbox the outbox's counts (or `down` when Redis did not answer). */
export type AppHealth = BroadcasterHealth & { outbox?: OutboxHealthReport };

/** The outbox part of an app's health: its counts from Redis, or `down` with the error when Redis did not answer. */
export type OutboxHealthReport = OutboxHealth | { status: 'down'; lastError: { name: string; message: string; at: string } };

/** What the handler answers for a several-app middleware: every app's health, `down` when any is. */
export interface AppsHealth {
  status: 'up' | 'down';
  apps: Record<string, AppHealth>;
}

/**
 * A handler answering the broadcaster's health as JSON: 200 when `status` is `'up'`, 503 when `'down'`
 * (closed, the rate-limit store failing, or the app's outbox down or unreachable). With an outbox it adds `outbox`:
 * its backlog, oldest age and deliverers, read from Redis. Mount it with `app.get('/health', createHealthHandler())`.
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

  async function report(fields: RequestFields): Promise<AppHealth | AppsHealth> {
    const apps = fields.broadcasts as BroadcastApps | undefined;
    if (broadcast) return broadcast.health();
    if (app !== undefined && apps) return appHealth(apps.get(app), apps.outbox(app));
    if (apps && apps.names.length > 1) {
      const each = Object.fromEntries(await Promise.all(apps.names.map(async (name) => [name, await appHealth(apps.get(name), apps.outbox(name))] as const)));
      return { status: Object.values(each).every((h) => h.status === 'up') ? 'up' : 'down', apps: each };
    }
    if (fields.broadcast) return appHealth(fields.broadcast as Broadcaster, fields.outbox as Outbox | undefined);
    throw new Error('no broadcaster: use broadcastMiddleware() before the health handler, or pass { broadcast }');
  }

  return (req, res, next) => {
    report(req as RequestFields).then((health) => sendJson(res, health.status === 'up' ? 200 : 503, health), next);
  };
}

async function appHealth(broadcaster: Broadcaster, outbox: Outbox | undefined): Promise<AppHealth> {
  const health = broadcaster.health();
  if (!outbox) return health;
  let report: OutboxHealthReport;
  try {
    report = await outbox.health();
  } catch (err) {
    const { name, message } = err instanceof Error ? err : new Error(String(err));
    report = { status: 'down', lastError: { name, message, at: new Date().toISOString() } };
  }
  return { ...health, status: health.status === 'up' && report.status === 'up' ? 'up' : 'down', outbox: report };
}
