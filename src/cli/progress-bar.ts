/**
 * A progress bar for long encrypt/decrypt runs, drawn on stderr and only
 * when stderr is a terminal (never in pipes, logs or tests' captured output).
 * Redrawn when the shown percentage changes, so it costs nothing per chunk.
 */
import type { CliIO } from "./context.js";

const WIDTH = 30;

function mib(n: number): string {
  return (n / (1024 * 1024)).toFixed(1);
}

export class ProgressBar {
  readonly #io: CliIO;
  readonly #label: string;
  readonly #total: number;
  readonly #enabled: boolean;
  #done = 0;
  #shown = -1;

  /** `total` in bytes; a bar with an unknown or zero total, or off a terminal, draws nothing. */
  constructor(io: CliIO, label: string, total: number | undefined) {
    this.#io = io;
    this.#label = label;
    this.#total = total ?? 0;
    this.#enabled = io.stderrIsTTY && this.#total > 0;
  }

  advance(bytes: number): void {
    this.#done += bytes;
    if (!this.#enabled) return;
    const pct = Math.min(100, Math.floor((this.#done / this.#total) * 100));
    if (pct === this.#shown) return;
    this.#shown = pct;
    const fill = Math.round((pct / 100) * WIDTH);
    this.#io.stderr(`\r${this.#label} [${"#".repeat(fill)}${".".repeat(WIDTH - fill)}] ${String(pct).padStart(3)}% ${mib(this.#done)}/${mib(this.#total)} MiB`);
  }

  /** Ends the line (on success or failure) so later messages start clean. */
  finish(): void {
    if (this.#enabled && this.#shown >= 0) this.#io.stderr("\n");
  }

  /** Passes chunks through, counting them. */
  async *track(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const c of chunks) {
      this.advance(c.length);
      yield c;
    }
  }
}
