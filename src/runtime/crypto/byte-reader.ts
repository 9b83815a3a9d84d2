/**
 * Exact-length reads over an async stream of byte chunks, holding at most
 * what one read asks for (plus one source chunk): the streaming format reads
 * its header field by field and its chunks one at a time, in bounded memory.
 */

export class ByteReader {
  readonly #source: AsyncIterator<Uint8Array>;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #head = 0; // offset into #pending[0]
  #ended = false;
  /** Bytes handed out by `read` so far. */
  consumed = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]?.() ?? toAsync((source as Iterable<Uint8Array>)[Symbol.iterator]());
    this.#source = it;
  }

  /** Buffers until `n` bytes are available or the source ends. */
  async #fill(n: number): Promise<void> {
    while (this.#pendingBytes < n && !this.#ended) {
      const next = await this.#source.next();
      if (next.done) {
        this.#ended = true;
        break;
      }
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) throw new TypeError("stream chunks must be Uint8Array");
      if (chunk.length === 0) continue;
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
    }
  }

  /** The next `n` bytes, or fewer when the source ends first. May be a view into a source chunk. */
  async read(n: number): Promise<Uint8Array> {
    await this.#fill(n);
    const take = Math.min(n, this.#pendingBytes);
    const first = this.#pending[0];
    let out: Uint8Array;
    if (first !== undefined && first.length - this.#head >= take) {
      out = first.subarray(this.#head, this.#head + take); // no copy in the common case
      this.#advance(take);
    } else {
      out = new Uint8Array(take);
      let at = 0;
      while (at < take) {
        const chunk = this.#pending[0]!;
        const part = chunk.subarray(this.#head, this.#head + Math.min(take - at, chunk.length - this.#head));
        out.set(part, at);
        at += part.length;
        this.#advance(part.length);
      }
    }
    this.consumed += take;
    return out;
  }

  #advance(n: number): void {
    this.#head += n;
    this.#pendingBytes -= n;
    if (this.#head === this.#pending[0]!.length) {
      this.#pending.shift();
      this.#head = 0;
    }
  }

  /** True when no bytes remain. */
  async atEnd(): Promise<boolean> {
    await this.#fill(1);
    return this.#pendingBytes === 0;
  }

  /** Stops the source early (a failure part-way through), so a file stream releases its descriptor. */
  async close(): Promise<void> {
    this.#pending = [];
    this.#pendingBytes = 0;
    if (!this.#ended) {
      this.#ended = true;
      await this.#source.return?.();
    }
  }

  /** Everything not yet read, as it arrives (rewrap copies payloads this way without holding them). */
  async *rest(): AsyncGenerator<Uint8Array> {
    while (true) {
      await this.#fill(1);
      if (this.#pendingBytes === 0) return;
      yield await this.read(this.#pending[0]!.length - this.#head);
    }
  }
}

async function* toAsync(it: Iterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (let r = it.next(); !r.done; r = it.next()) yield r.value;
}
