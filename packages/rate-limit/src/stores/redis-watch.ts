import type { FreedListener } from './store';

/** A client used only for SUBSCRIBE: ioredis (`subscribe(channel)` + 'message' events) or node-redis (`subscribe(channel, listener)`). */
export interface RedisSubscriberLike {
  subscribe: (...args: never[]) => unknown;
  unsubscribe: (...args: never[]) => unknown;
}

type AnyFn = (...args: unknown[]) => unknown;
type Loose = Record<string, AnyFn | undefined>;

/** Longest wait for a closed connection's socket to be gone (ioredis destroys it after 2 s anyway). */
const CLOSE_WAIT_MS = 3_000;
/** How often a channel's watchers are told to look again while it is not subscribed. */
const FALLBACK_POLL_MS = 250;
/** Wait before trying to subscribe again after a failure. */
const RETRY_MS = 1_000;

interface Channel {
  listeners: Set<FreedListener>;
  /** Subscribed: pushes arrive. */
  live: boolean;
  /** node-redis takes a listener per channel. */
  onMessage?: (message: unknown) => void;
}

/**
 * The pub/sub side of a RedisStore: one subscriber connection, opened on the first watch and closed after the
 * last. Unless a `subscriber` was given, it is a duplicate of the store's client (same server, Cluster or
 * Sentinel set-up); a node-redis client without `duplicate()` (Sentinel) subscribes itself, on the pub/sub
 * connection it keeps. While a channel is not subscribed — connecting, reconnecting, or unable to — its watchers
 * are told to look again every 250 ms, so a lost push costs latency, never a stall.
 */
export class RedisWatch {
  readonly #client: Loose;
  readonly #given: Loose | undefined;
  readonly #channels = new Map<string, Channel>();
  #connecting: Promise<Loose> | undefined;
  #sub: Loose | undefined;
  #owned = false;
  #poll: NodeJS.Timeout | undefined;
  /** Bumped when the connection is dropped, so late callbacks of an older one do nothing. */
  #generation = 0;
  /** Connections of ours being closed. */
  readonly #closing = new Set<Promise<void>>();

  constructor(client: object, subscriber: object | undefined) {
    this.#client = client as Loose;
    this.#given = subscriber as Loose | undefined;
  }

  watch(name: string, listener: FreedListener): () => void {
    let channel = this.#channels.get(name);
    if (!channel) {
      channel = { listeners: new Set(), live: false };
      this.#channels.set(name, channel);
      this.#subscribe(name, channel);
    }
    const watched = channel;
    watched.listeners.add(listener);
    return () => {
      if (!watched.listeners.delete(listener) || watched.listeners.size > 0 || this.#channels.get(name) !== watched) return;
      this.#channels.delete(name);
      this.#unsubscribe(name, watched);
    };
  }

  #tell(channel: Channel, inMs: number): void {
    for (const listener of channel.listeners) listener(inMs);
  }

  /** Polls on behalf of the channels that are not live, while there are any. */
  #pollIfNeeded(): void {
    const idle = () => [...this.#channels.values()].every((c) => c.live);
    if (idle()) {
      clearInterval(this.#poll);
      this.#poll = undefined;
      return;
    }
    this.#poll ??= setInterval(() => {
      for (const channel of this.#channels.values()) if (!channel.live) this.#tell(channel, 0);
      if (idle()) this.#pollIfNeeded();
    }, FALLBACK_POLL_MS);
    this.#poll.unref?.();
  }

  #subscribe(name: string, channel: Channel): void {
    const generation = this.#generation;
    const current = () => generation === this.#generation && this.#channels.get(name) === channel;
    this.#pollIfNeeded();
    this.#connect()
      .then(async (sub) => {
        if (!current()) return;
        if (isIoRedis(sub)) await sub.subscribe!(name);
        else {
          channel.onMessage ??= (message) => this.#message(name, message);
          await sub.subscribe!(name, channel.onMessage);
        }
        if (!current()) return;
        channel.live = true;
        this.#pollIfNeeded();
        this.#tell(channel, 0); // pushes sent before the subscription took effect were missed
      })
      .catch(() => {
        if (!current()) return;
        setTimeout(() => current() && !channel.live && this.#subscribe(name, channel), RETRY_MS).unref?.();
      });
  }

  #unsubscribe(name: string, channel: Channel): void {
    const sub = this.#sub;
    if (sub) void Promise.resolve()
      .then(() => (isIoRedis(sub) ? sub.unsubscribe!(name) : sub.unsubscribe!(name, channel.onMessage)))
      .catch(() => {});
    if (this.#channels.size > 0) return;
    // the last watcher left: drop the connection we opened
    this.#generation++;
    this.#pollIfNeeded();
    this.#connecting = undefined;
    this.#sub = undefined;
    if (sub && this.#owned) this.#drop(sub);
  }

  /** Stops every watch and closes the connection it opened (waiting until its socket is closed). */
  async close(): Promise<void> {
    for (const [name, channel] of [...this.#channels]) {
      this.#channels.delete(name);
      this.#unsubscribe(name, channel); // the last one drops the connection, if it is ours
    }
    await Promise.all(this.#closing);
  }

  #drop(sub: Loose): void {
    const done = Promise.resolve()
      .then(() => close(sub))
      .catch(() => {});
    this.#closing.add(done);
    void done.finally(() => this.#closing.delete(done));
  }

  #connect(): Promise<Loose> {
    this.#connecting ??= this.#open().catch((err) => {
      const sub = this.#sub;
      this.#connecting = undefined;
      this.#sub = undefined;
      if (sub && this.#owned) this.#drop(sub);
      throw err;
    });
    return this.#connecting;
  }

  async #open(): Promise<Loose> {
    const generation = this.#generation;
    const given = this.#given;
    const client = this.#client;
    let sub: Loose;
    if (given) {
      sub = given;
      this.#owned = false;
    } else if (typeof client.duplicate === 'function') {
      sub = client.duplicate() as Loose;
      this.#owned = true;
      sub.on?.('error', () => {}); // failures show up as missed pushes (and polling), and in the store's own steps
    } else if (!isIoRedis(client)) {
      sub = client; // node-redis Sentinel: subscribes on the pub/sub connection it keeps
      this.#owned = false;
    } else {
      throw new Error('the ioredis client cannot duplicate() itself; pass `subscriber`');
    }
    this.#sub = sub;
    this.#follow(sub, generation);
    if (this.#owned && !isIoRedis(sub)) await sub.connect?.();
    return sub;
  }

  /** Marks channels not live while the connection is down, and subscribes them again when it is back. */
  #follow(sub: Loose, generation: number): void {
    if (typeof sub.on !== 'function') return;
    const down = () => {
      if (generation !== this.#generation) return;
      for (const channel of this.#channels.values()) channel.live = false;
      this.#pollIfNeeded();
    };
    if (isIoRedis(sub)) {
      sub.on('message', (name: unknown, message: unknown) => generation === this.#generation && this.#message(String(name), message));
      let connected = false;
      sub.on('ready', () => {
        if (generation !== this.#generation) return;
        const again = connected;
        connected = true;
        // ioredis subscribes again by itself; doing it here too tells us when it has taken effect
        if (again) for (const [name, channel] of this.#channels) this.#subscribe(name, channel);
      });
      sub.on('close', down);
    } else {
      sub.on('reconnecting', down);
      sub.on('ready', () => {
        if (generation !== this.#generation) return;
        for (const channel of this.#channels.values()) {
          if (channel.live || !channel.onMessage) continue;
          channel.live = true; // node-redis subscribed again while reconnecting
          this.#tell(channel, 0);
        }
        this.#pollIfNeeded();
      });
    }
  }

  #message(name: string, message: unknown): void {
    const channel = this.#channels.get(name);
    if (!channel) return;
    const inMs = Number(String(message));
    this.#tell(channel, Number.isFinite(inMs) && inMs >= 0 ? inMs : 0);
  }
}

/** ioredis (Redis or Cluster) rather than node-redis. */
function isIoRedis(client: Loose): boolean {
  return typeof client.evalsha === 'function';
}

/** Closes a connection of ours, resolving once its socket is closed. */
async function close(sub: Loose): Promise<void> {
  if (!isIoRedis(sub)) {
    await (sub.destroy ?? sub.disconnect ?? sub.quit)?.call(sub);
    return;
  }
  await closeIoRedis(sub as unknown as ClosableIoRedis, false);
}

/** The part of an ioredis client needed to close it and know when its connection is gone. */
export interface ClosableIoRedis {
  readonly status: string;
  quit(): Promise<unknown>;
  disconnect(): void;
  once(event: 'end', listener: () => void): unknown;
  off(event: 'end', listener: () => void): unknown;
}

/**
 * Closes an ioredis client (`graceful`: QUIT, else drop the connection). A connected one is waited for until its
 * socket is closed (its 'end'; at most CLOSE_WAIT_MS); one that is not connected has nothing open but its reconnect
 * timer, which disconnect() stops.
 */
export async function closeIoRedis(client: ClosableIoRedis, graceful: boolean): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') return client.disconnect();
  let onEnd = () => {};
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    onEnd = resolve;
    client.once('end', onEnd);
    timer = setTimeout(resolve, CLOSE_WAIT_MS);
    timer.unref();
  });
  if (graceful) client.quit().catch(() => client.disconnect());
  else client.disconnect();
  await ended;
  clearTimeout(timer);
  client.off('end', onEnd);
}
