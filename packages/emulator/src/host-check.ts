import { isIP } from 'node:net';

/**
 * Whether a request's `Host` header names this emulator, so a page on another site that rebinds its own name to
 * 127.0.0.1 (DNS rebinding) cannot reach the control API or the dashboard. Allowed: no header (not a browser),
 * `localhost` and `*.localhost`, any IP address (a rebinding attack always uses a name), the listening `host`, and
 * `allowedHosts` (exact names; a leading dot also matches subdomains). `true` allows any Host.
 */
export function isAllowedHost(header: string | undefined, listenHost: string, allowedHosts: readonly string[] | true = []): boolean {
  if (allowedHosts === true || header === undefined) return true;
  const name = hostName(header);
  if (name === '') return false;
  if (name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0) return true;
  if (name === normalize(listenHost)) return true;
  return allowedHosts.some((entry) => {
    const allowed = normalize(entry);
    return allowed.startsWith('.') ? name === allowed.slice(1) || name.endsWith(allowed) : name === allowed;
  });
}

/** The name part of a Host header (`[::1]:80` → `::1`, `Example.com.:80` → `example.com`). */
export function hostName(header: string): string {
  const value = header.trim();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? '' : normalize(value.slice(1, end));
  }
  const colon = value.indexOf(':');
  return normalize(colon === -1 ? value : value.slice(0, colon));
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
