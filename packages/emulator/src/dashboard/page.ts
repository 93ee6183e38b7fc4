import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTROL_PREFIX } from '../control';
import css from './assets/dashboard.css?raw';
import script from './assets/dashboard.js?raw';
import html from './assets/index.html?raw';

export const DASHBOARD_PATHS = {
  page: '/',
  script: `${CONTROL_PREFIX}dashboard.js`,
  style: `${CONTROL_PREFIX}dashboard.css`,
  events: `${CONTROL_PREFIX}events`,
} as const;

/**
 * The page may run only its own script and style, talk only to this server, and show images from anywhere
 * (thumbnails of broadcast images, loaded by the browser, never by the emulator).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: http: https:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS: Record<string, { type: string; body: Buffer }> = {
  [DASHBOARD_PATHS.page]: { type: 'text/html; charset=utf-8', body: Buffer.from(html) },
  [DASHBOARD_PATHS.script]: { type: 'text/javascript; charset=utf-8', body: Buffer.from(script) },
  [DASHBOARD_PATHS.style]: { type: 'text/css; charset=utf-8', body: Buffer.from(css) },
};

/** Serves the page or one of its assets; false when `path` is none of them. */
export function serveDashboardAsset(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const asset = Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
  if (!asset) return false;
  req.resume();
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('GET only\n');
    return true;
  }
  res.writeHead(200, {
    'content-type': asset.type,
    'content-length': String(asset.body.length),
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
  return true;
}
