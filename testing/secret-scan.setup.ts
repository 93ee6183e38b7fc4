/**
 * Loaded before every test file of every project (see vitest.shared.ts). It records every secret key and UserSig
 * that tls-sig-api-v2 is asked for, and every line written to the console, stdout or stderr while the file runs;
 * after the file it fails if any recorded line contains a recorded secret or UserSig. Tests that capture hook
 * payloads, log lines, error strings or HTTP bodies of their own add them with `recordOutput()`; so do tests that
 * export telemetry (`recordOutput(exporter.getFinishedSpans(), resourceMetrics)`: spans and metrics are serialized
 * with every attribute, event, link and label).
 */
import { createRequire } from 'node:module';
import { afterAll } from 'vitest';

interface Registry {
  secrets: Set<string>;
  sigs: Set<string>;
  output: string[];
  patched: boolean;
}

const KEY = Symbol.for('tim-broadcast.secret-scan');
const registry: Registry = ((globalThis as Record<symbol, Registry>)[KEY] ??= {
  secrets: new Set(),
  sigs: new Set(),
  output: [],
  patched: false,
});

export function recordOutput(...values: unknown[]): void {
  for (const v of values) registry.output.push(typeof v === 'string' ? v : safeString(v));
}

/** The text the scan searches for a value: errors with message, stack and cause; anything else as JSON (see `plain`). */
export function safeString(v: unknown): string {
  try {
    return v instanceof Error ? `${v.name}: ${v.message} ${String(v.stack)} ${safeString(v.cause ?? '')}` : JSON.stringify(plain(v, new WeakSet())) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * A JSON-safe copy of `v`: cycles cut, Maps and Sets as arrays, bigints as strings. An exported OpenTelemetry span
 * (it has `spanContext()`) is reduced to what an exporter sends — name, attributes, events, links, status and
 * resource attributes — instead of the SDK objects it points to; metrics (ResourceMetrics) are plain data already.
 */
function plain(v: unknown, seen: WeakSet<object>): unknown {
  if (typeof v === 'bigint') return String(v);
  if (typeof v !== 'object' || v === null) return typeof v === 'function' ? undefined : v;
  if (seen.has(v)) return '[cycle]';
  seen.add(v);
  if (v instanceof Error) return safeString(v);
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return plain((v as { toJSON(): unknown }).toJSON(), seen);
  if (Array.isArray(v)) return v.map((item) => plain(item, seen));
  if (v instanceof Map) return plain([...v.entries()], seen);
  if (v instanceof Set) return plain([...v], seen);
  const span = v as { spanContext?: unknown; name?: unknown; attributes?: unknown; events?: unknown; links?: unknown; status?: unknown; resource?: { attributes?: unknown } };
  if (typeof span.spanContext === 'function' && 'attributes' in span) {
    return plain({ name: span.name, attributes: span.attributes, events: span.events, links: span.links, status: span.status, resource: span.resource?.attributes }, seen);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v)) out[key] = plain(value, seen);
  return out;
}

if (!registry.patched) {
  registry.patched = true;
  const { Api } = createRequire(import.meta.url)('tls-sig-api-v2') as {
    Api: { prototype: { genSig(this: { key: string }, ...args: unknown[]): string } };
  };
  const genSig = Api.prototype.genSig;
  Api.prototype.genSig = function (this: { key: string }, ...args: unknown[]) {
    const sig = genSig.apply(this, args);
    registry.secrets.add(String(this.key));
    registry.sigs.add(sig);
    return sig;
  };
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    (stream as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]) => {
      registry.output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return write(chunk, ...rest);
    };
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      recordOutput(args.map((a) => (typeof a === 'string' ? a : safeString(a))).join(' '));
      original(...args);
    };
  }
}

afterAll(() => {
  const leaks: string[] = [];
  const needles = [...registry.secrets, ...registry.sigs].filter((s) => s.length >= 8);
  for (const line of registry.output) {
    for (const needle of needles) if (line.includes(needle)) leaks.push(`${needle.slice(0, 4)}… in: ${line.slice(0, 120)}`);
  }
  registry.output.length = 0;
  if (leaks.length) throw new Error(`secret scan: ${leaks.length} leak(s) of a secret key or UserSig:\n${leaks.join('\n')}`);
});
