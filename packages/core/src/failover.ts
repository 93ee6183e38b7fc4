import type { Endpoint } from './regions';

/**
 * Chooses the host for the next attempt: the primary, until `failoverAfter` network failures in a row,
 * then the backup for `recoverAfterMs`, then the primary again. Shared by every call of one client.
 */
export class HostSelector {
  private usingBackup = false;
  private switchedAt = 0;
  private failures = 0;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly failoverAfter: number,
    private readonly recoverAfterMs: number,
    private readonly onSwitch: (from: string, to: string) => void,
  ) {}

  current(now = Date.now()): string {
    if (this.usingBackup && now - this.switchedAt >= this.recoverAfterMs) this.switchTo(false, now);
    return this.usingBackup ? this.endpoint.backup! : this.endpoint.primary;
  }

  networkFailure(host: string, now = Date.now()): void {
    if (host !== this.current(now)) return;
    if (++this.failures >= this.failoverAfter && this.endpoint.backup) this.switchTo(!this.usingBackup, now);
  }

  answered(host: string): void {
    if (host === this.current()) this.failures = 0;
  }

  private switchTo(backup: boolean, now: number): void {
    const from = this.usingBackup ? this.endpoint.backup! : this.endpoint.primary;
    this.usingBackup = backup;
    this.switchedAt = now;
    this.failures = 0;
    this.onSwitch(from, backup ? this.endpoint.backup! : this.endpoint.primary);
  }
}
