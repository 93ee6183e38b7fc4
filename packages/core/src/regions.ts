import { ValidationError, type ValidationIssue } from './errors/classes';
import { describeValue, numberIssue, objectIssue, throwIfIssues, unknownOptionIssues } from './options';

/** The documented data-centre domains; pick the one where your SDKAppID was created. */
export const REGIONS = {
  china: { primary: 'https://console.tim.qq.com', backup: 'https://adminapi.my-imcloud.com' },
  singapore: { primary: 'https://adminapisgp.im.qcloud.com', backup: 'https://adminapisgp.my-imcloud.com' },
  seoul: { primary: 'https://adminapikr.im.qcloud.com', backup: 'https://adminapikr.my-imcloud.com' },
  tokyo: { primary: 'https://adminapijpn.im.qcloud.com', backup: 'https://adminapijpn.my-imcloud.com' },
  frankfurt: { primary: 'https://adminapiger.im.qcloud.com', backup: 'https://adminapiger.my-imcloud.com' },
  mumbai: { primary: 'https://adminapiind.im.qcloud.com', backup: 'https://adminapiind.my-imcloud.com' },
  'silicon-valley': { primary: 'https://adminapiusa.im.qcloud.com', backup: 'https://adminapiusa.my-imcloud.com' },
  jakarta: { primary: 'https://adminapiidn.im.qcloud.com', backup: 'https://adminapiidn.my-imcloud.com' },
} as const satisfies Record<string, Endpoint>;

export type Region = keyof typeof REGIONS;

/** Base URLs (scheme, host, optional path prefix) of the API. */
export interface Endpoint {
  primary: string;
  /** Used after repeated network failures against `primary`. */
  backup?: string;
}

export type EndpointOptions = ({ region: Region; baseUrl?: undefined } | { baseUrl: string | Endpoint; region?: undefined }) & {
  /**
   * Allow `http://` base URLs to hosts other than loopback (127.0.0.0/8, ::1, localhost). Off by default: the UserSig
   * travels in the query string, in clear text over http. Never allows an https primary with an http backup.
   */
  allowInsecureHttp?: boolean;
};

export const BROADCAST_PATH = '/v4/group_open_http_svc/send_broadcast_msg';

/** Turns `{ region }` or `{ baseUrl }` into the primary and backup base URLs, validating them. */
export function resolveEndpoint(options: EndpointOptions): Endpoint {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('invalid endpoint options', [{ path: [], message: 'expected { region } or { baseUrl }' }]);
  }
  const { region, baseUrl, allowInsecureHttp } = options as { region?: unknown; baseUrl?: unknown; allowInsecureHttp?: unknown };
  if (allowInsecureHttp !== undefined && typeof allowInsecureHttp !== 'boolean') {
    throw new ValidationError('invalid endpoint options', [{ path: ['allowInsecureHttp'], message: 'expected a boolean' }]);
  }
  if (region !== undefined && baseUrl !== undefined) {
    throw new ValidationError('give either region or baseUrl, not both', [{ path: ['baseUrl'], message: 'region is also set' }]);
  }
  if (baseUrl !== undefined) {
    const insecure = allowInsecureHttp === true;
    if (typeof baseUrl === 'string') return { primary: checkBase(baseUrl, ['baseUrl'], insecure) };
    if (baseUrl && typeof baseUrl === 'object' && !Array.isArray(baseUrl)) {
      const { primary, backup, ...rest } = baseUrl as { primary?: unknown; backup?: unknown };
      const unknown = unknownOptionIssues(rest, ['primary', 'backup'], ['baseUrl']);
      if (unknown.length) throw new ValidationError('invalid baseUrl', unknown);
      const out: Endpoint = { primary: checkBase(primary, ['baseUrl', 'primary'], insecure) };
      if (backup !== undefined) {
        out.backup = checkBase(backup, ['baseUrl', 'backup'], insecure);
        if (out.primary.startsWith('https:') && out.backup.startsWith('http:')) {
          throw new ValidationError('invalid baseUrl', [
            { path: ['baseUrl', 'backup'], message: 'an https primary cannot fail over to an http backup (the UserSig would travel in clear text)' },
          ]);
        }
      }
      return out;
    }
    throw new ValidationError('baseUrl must be a URL string or { primary, backup }', [
      { path: ['baseUrl'], message: 'expected a URL string or { primary, backup }' },
    ]);
  }
  if (typeof region === 'string' && Object.hasOwn(REGIONS, region)) {
    return { ...REGIONS[region as Region] };
  }
  const names = Object.keys(REGIONS).join(', ');
  throw new ValidationError(
    region === undefined ? 'invalid endpoint options' : `unknown region ${typeof region === 'string' ? JSON.stringify(region.slice(0, 40)) : describeValue(region)}`,
    [{ path: ['region'], message: region === undefined ? `region or baseUrl: required (regions: ${names})` : `expected one of ${names}` }],
  );
}

/**
 * Whether a URL hostname (as `new URL(u).hostname` gives it) is this machine: localhost, 127.0.0.0/8 or [::1].
 * Hosts an `http://` base URL may name without `allowInsecureHttp`: the UserSig never leaves the machine.
 */
export function isLoopbackHostname(hostname: string): boolean {
  if (typeof hostname !== 'string') return false;
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function checkBase(value: unknown, path: string[], allowInsecureHttp: boolean): string {
  const fail = (message: string): never => {
    throw new ValidationError(`invalid ${path.join('.')}`, [{ path, message }]);
  };
  if (typeof value !== 'string') return fail(`expected an http(s) base URL, got ${describeValue(value)}`);
  // any marker, even an empty query: the client appends the path and query itself
  if (value.includes('?') || value.includes('#')) return fail('expected a base URL without a query or fragment (no ? or #)');
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    return fail('expected an http(s) base URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return fail('expected an http(s) base URL');
  // never echo the URL: it may hold a password
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) {
    return fail('expected a base URL without credentials (user or password)');
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHostname(url.hostname)) {
    return fail('http:// is only allowed to a loopback host (the UserSig would travel in clear text); use https, or set allowInsecureHttp: true');
  }
  return url.href.replace(/\/+$/, '');
}

export interface RequestUrlParams {
  sdkAppId: number;
  identifier: string;
  userSig: string;
  /** The query `random` (identifies this HTTP request); fresh per attempt when omitted. */
  random?: number;
}

/** The full request URL: base + path + `sdkappid`, `identifier`, `usersig`, `random`, `contenttype=json`. */
export function buildRequestUrl(base: string, params: RequestUrlParams): string {
  const issues: (ValidationIssue | undefined)[] = [];
  if (typeof base !== 'string' || !URL.canParse(base)) issues.push({ path: ['base'], message: 'expected a base URL string' });
  const shape = objectIssue(params, ['params']);
  if (shape) issues.push(shape);
  else {
    const { sdkAppId, identifier, userSig, random } = params;
    issues.push(numberIssue(sdkAppId, ['params', 'sdkAppId'], 'count', { min: 1, max: 0xffffffff }) ?? (sdkAppId === undefined ? { path: ['params', 'sdkAppId'], message: 'required' } : undefined));
    if (typeof identifier !== 'string' || !identifier) issues.push({ path: ['params', 'identifier'], message: 'expected a non-empty string' });
    if (typeof userSig !== 'string' || !userSig) issues.push({ path: ['params', 'userSig'], message: 'expected a non-empty string' });
    issues.push(numberIssue(random, ['params', 'random'], 'count', { max: 0xffffffff }));
  }
  throwIfIssues('invalid request URL parameters', issues);
  return requestUrlPrefix(base, params) + requestUrlSuffix(params.random);
}

/** The part of the URL that stays the same while the host and the UserSig do. */
export function requestUrlPrefix(base: string, params: Omit<RequestUrlParams, 'random'>): string {
  const query = new URLSearchParams({ sdkappid: String(params.sdkAppId), identifier: params.identifier, usersig: params.userSig });
  return `${base.replace(/\/+$/, '')}${BROADCAST_PATH}?${query}`;
}

/** The per-request part: a fresh `random` and `contenttype=json`. */
export function requestUrlSuffix(random = randomUint32()): string {
  return `&random=${random}&contenttype=json`;
}

const pool = new Uint32Array(64);
let poolIndex = pool.length;

/** A uniformly random integer in 0..4294967295 from the platform CSPRNG. */
export function randomUint32(): number {
  if (poolIndex === pool.length) {
    crypto.getRandomValues(pool);
    poolIndex = 0;
  }
  return pool[poolIndex++]!;
}

/** Replaces the value of the `usersig` query parameter, for logs and hooks. Anything but a string gives ''. */
export function redactUrl(url: string): string {
  if (typeof url !== 'string') return '';
  return url.replace(/([?&]usersig=)[^&#]*/gi, '$1[redacted]');
}
