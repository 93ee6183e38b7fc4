import type { ValidationIssue } from '../errors/classes';

/**
 * How deep a `TIMRelayElem` may nest inside another one's `MsgList` (a forward of a forward...). The docs set no
 * limit; this is the SDK's own bound, so that untrusted input cannot exhaust the stack of anything that walks it
 * (the schemas, `messageBytes`, `JSON.stringify`).
 */
export const MAX_RELAY_DEPTH = 8;

/** How deep objects and arrays may nest anywhere in a MsgBody (8 nested relays need about 45 levels). */
export const MAX_JSON_DEPTH = 64;

/** Most values walked before giving up: far above anything that fits in 12,000 bytes. */
const MAX_NODES = 1_000_000;

interface Node {
  value: unknown;
  key: PropertyKey | undefined;
  parent: Node | undefined;
  depth: number;
  relays: number;
}

function pathOf(node: Node): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let n: Node | undefined = node; n?.parent; n = n.parent) path.unshift(n.key!);
  return path;
}

/**
 * The first place where `value` nests too deep (more than MAX_RELAY_DEPTH relays, or MAX_JSON_DEPTH levels), as an
 * issue with a path relative to `value`; undefined when it is within bounds. Walks iteratively, so any depth is safe.
 */
export function nestingIssue(value: unknown): ValidationIssue | undefined {
  const stack: Node[] = [{ value, key: undefined, parent: undefined, depth: 0, relays: 0 }];
  let visited = 0;
  while (stack.length) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v !== 'object' || v === null) continue;
    const depth = node.depth + 1;
    if (depth > MAX_JSON_DEPTH) {
      return { path: pathOf(node), message: `nested more than ${MAX_JSON_DEPTH} levels deep` };
    }
    let relays = node.relays;
    if ((v as { MsgType?: unknown }).MsgType === 'TIMRelayElem' && ++relays > MAX_RELAY_DEPTH) {
      return { path: pathOf(node), message: `TIMRelayElem nested more than ${MAX_RELAY_DEPTH} deep` };
    }
    const keys = Array.isArray(v) ? undefined : Object.keys(v);
    visited += keys ? keys.length : (v as unknown[]).length;
    if (visited > MAX_NODES) return { path: pathOf(node), message: `more than ${MAX_NODES} values` };
    if (!keys) {
      const arr = v as unknown[];
      for (let i = arr.length - 1; i >= 0; i--) stack.push({ value: arr[i], key: i, parent: node, depth, relays });
    } else {
      for (const key of keys) stack.push({ value: (v as Record<string, unknown>)[key], key, parent: node, depth, relays });
    }
  }
  return undefined;
}
