import { ValidationError } from './errors/classes';

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

export type EndpointOptions = { region: Region; baseUrl?: undefined } | { baseUrl: string | Endpoint; region?: undefined };

export const BROADCAST_PATH = '/v4/group_open_http_svc/send_broadcast_msg';

/** Turns `{ region }` or `{ baseUrl }` into the primary and backup base URLs, validating them. */
export function resolveEndpoint(options: EndpointOptions): Endpoint {
  const { region, baseUrl } = options as { region?: unknown; baseUrl?: unknown };
  if (region !== undefined && baseUrl !== undefined) {
    throw new ValidationError('give either region or baseUrl, not both', [{ path: ['baseUrl'], message: 'region is also set' }]);
  }
  if (baseUrl !== undefined) {
    if (typeof baseUrl === 'string') return { primary: checkBase(baseUrl, 'baseUrl') };
    if (baseUrl && typeof baseUrl === 'object') {
      const { primary, backup } = baseUrl as { primary?: unknown; backup?: unknown };
      const out: Endpoint = { primary: checkBase(primary, 'baseUrl.primary') };
      if (backup !== undefined) out.backup = checkBase(backup, 'baseUrl.backup');
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
    region === undefined ? `region or baseUrl is required (regions: ${names})` : `unknown region ${JSON.stringify(region)} (regions: ${names})`,
    [{ path: ['region'], message: region === undefined ? 'required' : `expected one of ${names}` }],
  );
}

function checkBase(value: unknown, field: string): string {
  let url: URL | undefined;
  try {
    if (typeof value === 'string') url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    throw new ValidationError(`${field} must be an http(s) URL without query, fragment or credentials`, [
      { path: field.split('.'), message: 'expected an http(s) base URL' },
    ]);
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

/** Replaces the value of the `usersig` query parameter, for logs and hooks. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]usersig=)[^&#]*/gi, '$1[redacted]');
}
