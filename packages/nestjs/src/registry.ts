import { Global, Injectable, Module } from '@nestjs/common';
import { ValidationError } from '@tim-broadcast/core';
import type { BroadcasterHealth, OutboxHealth } from '@tim-broadcast/rate-limit';
import { DEFAULT_BROADCAST_NAME } from './tokens';

/** What the registry needs of a registration (its `BroadcastService`). */
export interface Registration {
  readonly name: string;
  health(): BroadcasterHealth;
  /** Undefined without an outbox; rejects when Redis does not answer. */
  outboxHealth(): Promise<OutboxHealth | undefined>;
  /** Drains the registration's queue (bounded by its `shutdownTimeoutMs`), then closes it. */
  close(): Promise<void>;
}

/**
 * Every `BroadcastModule` registration of one application, by name: health per name, and one shutdown that drains
 * them all at once (Nest runs the shutdown hooks of one module after another; draining each in turn would add up
 * their `shutdownTimeoutMs`).
 */
@Injectable()
export class BroadcastRegistry {
  private readonly registrations = new Map<string, Registration>();
  private closing: Promise<void> | undefined;

  add(registration: Registration): void {
    if (this.registrations.has(registration.name)) {
      const what = registration.name === DEFAULT_BROADCAST_NAME ? 'the unnamed BroadcastModule' : `BroadcastModule '${registration.name}'`;
      throw new ValidationError('invalid BroadcastModule registrations', [
        { path: ['name'], message: `${what} is registered twice; give each registration its own name` },
      ]);
    }
    this.registrations.set(registration.name, registration);
  }

  /** The names registered, the unnamed one as `'default'`. */
  get names(): string[] {
    return [...this.registrations.keys()];
  }

  get(name: string = DEFAULT_BROADCAST_NAME): Registration {
    const registration = this.registrations.get(name);
    if (registration) return registration;
    const known = this.names.length ? this.names.map((n) => `'${n}'`).join(', ') : 'none';
    throw new ValidationError('unknown BroadcastModule registration', [{ path: ['name'], message: `no registration named '${name}' (registered: ${known})` }]);
  }

  /** Drains and closes every registration, in parallel; the same promise for every caller. */
  closeAll(): Promise<void> {
    this.closing ??= Promise.all([...this.registrations.values()].map((r) => r.close())).then(() => undefined);
    return this.closing;
  }
}

/** Holds the one registry of an application; every `BroadcastModule` registration imports it. */
@Global()
@Module({ providers: [BroadcastRegistry], exports: [BroadcastRegistry] })
export class BroadcastCoreModule {}
