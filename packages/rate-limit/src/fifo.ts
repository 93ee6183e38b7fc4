/**
 * A first-in first-out list with O(1) push, shift and removal from the middle (removed items are skipped
 * when they reach the head). Plain `Array#shift` is O(n), which hurts with 100,000 queued broadcasts.
 */
export class Fifo<T extends { queued: boolean }> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    item.queued = true;
    this.#items.push(item);
    this.#size++;
  }

  peek(): T | undefined {
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      if (item?.queued) return item;
      this.#items[this.#head++] = undefined;
    }
    this.#items = [];
    this.#head = 0;
    return undefined;
  }

  shift(): T | undefined {
    const item = this.peek();
    if (!item) return undefined;
    item.queued = false;
    this.#items[this.#head++] = undefined;
    this.#size--;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The queued items from the head, lazily (stop early to read only the first few). */
  *[Symbol.iterator](): Generator<T> {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i];
      if (item?.queued) yield item;
    }
  }

  /** Takes `item` out wherever it is; false if it was no longer queued. */
  remove(item: T): boolean {
    if (!item.queued) return false;
    item.queued = false;
    this.#size--;
    return true;
  }
}
