import { TimBroadcastError } from '@tim-broadcast/core';
/** The rate-limit store (memory or Redis) failed or did not answer. `store` names it; `cause` holds the original error. */
export class StoreError extends TimBroadcastError {
  override name = 'StoreError';
  readonly store: string;

  constructor(store: string, message: string, options: { cause?: unknown } = {}) {
    super(`rate-limit store "${store}": ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.store = store;
  }
}

/** The rate limiter was closed while this caller waited for a slot (or after). Nothing was sent. */
export class LimiterClosedError extends TimBroadcastError {
  override name = 'LimiterClosedError';

  constructor(message = 'rate limiter is closed; nothing was sent') {
    super(message);
  }
}

/** Why a registry could not make an app's broadcaster; see `CredentialsError`. */
export type CredentialsFailure = 'failed' | 'timeout' | 'invalid' | 'unknown-app';

/**
 * A broadcast registry could not get an app's credentials: its provider threw (`'failed'`), did not answer within
 * `credentialsTimeoutMs` (`'timeout'`), returned something unusable (`'invalid'`: `cause` is the ValidationError naming
 * the fields), or returned nothing for this SDKAppID (`'unknown-app'`). Nothing was sent. Until `retryAt` the
 * registry answers the app's calls with this error without asking the provider again; the next call after it asks.
 * Never holds the secret key.
 */
export class CredentialsError extends TimBroadcastError {
  override name = 'CredentialsError';
  readonly sdkAppId: number;
  readonly reason: CredentialsFailure;
  /** When the provider will be asked again (by the first call from then on). */
  readonly retryAt: Date;
  /** Failures in a row for this app. */
  readonly failures: number;

  constructor(sdkAppId: number, reason: CredentialsFailure, detail: string, retryAt: Date, failures: number, options: { cause?: unknown } = {}) {
    super(`no credentials for SDKAppID ${sdkAppId}: ${detail}; nothing was sent`, options.cause === undefined ? undefined : { cause: options.cause });
    this.sdkAppId = sdkAppId;
    this.reason = reason;
    this.retryAt = retryAt;
    this.failures = failures;
  }

  /** Read by `httpErrorResponse`: 404 for an app the provider does not know, else 503 until `retryAt`. */
  get http(): { status: number; error: string; message: string; retryAfterSeconds?: number } {
    if (this.reason === 'unknown-app') return { status: 404, error: 'unknown_app', message: `no app with SDKAppID ${this.sdkAppId}` };
    const retryAfterSeconds = Math.max(1, Math.ceil((this.retryAt.getTime() - Date.now()) / 1_000));
    return { status: 503, error: 'credentials_unavailable', message: 'the credentials of this app could not be loaded; retry later', retryAfterSeconds };
  }
}

/** A broadcast registry holds `maxApps` apps and none of them is idle, so another cannot be added. Nothing was sent. */
export class RegistryFullError extends TimBroadcastError {
  override name = 'RegistryFullError';
  readonly maxApps: number;

  constructor(maxApps: number) {
    super(`the broadcast registry holds its maximum of ${maxApps} apps and none is idle; nothing was sent`);
    this.maxApps = maxApps;
  }

  /** Read by `httpErrorResponse`. */
  get http(): { status: number; error: string; retryAfterSeconds: number } {
    return { status: 503, error: 'registry_full', retryAfterSeconds: 1 };
  }
}
