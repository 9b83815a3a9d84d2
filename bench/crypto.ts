/**
 * Envelope throughput beside raw node:crypto AES-256-GCM in the same run
 * (issue #4 "Performance"): MB/s of plaintext for 1 KiB, 64 KiB and 1 MiB
 * messages. Targets: the envelope at >= 90% of raw at 1 MiB and >= 50% at
 * 1 KiB (where the per-object cost of a fresh data key and its wrap shows).
 *
 * raw      createCipheriv + update + final + getAuthTag, fresh random nonce per message
 * seal     sealEnvelope (format v1): fresh data key, wrap under the KEK, seal, header
 * open     openEnvelope: parse, unwrap, open
 * stream   sealStream (format v2, 64 KiB chunks), every piece consumed as a file writer would
 *
 * Work is done in short batches (about 256 KiB of plaintext each) of each
 * kind in turn (raw, seal, open, stream, raw, ...), so load from other
 * processes hits every kind alike; the median batch throughput is reported.
 * Run alone: `npm run bench:crypto`; with everything: `npm run bench`.
 */
import { createCipheriv, randomFillSync } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SecretKey } from "../src/runtime/crypto/secret-key.js";
import { MemoryKekUsage } from "../src/runtime/crypto/kek-usage.js";
import { openEnvelope, sealEnvelope, type Kek } from "../src/runtime/crypto/envelope.js";
import { sealStream } from "../src/runtime/crypto/stream.js";

const SIZES = [1024, 64 * 1024, 1024 * 1024];
/** Plaintext per batch: long enough that timer resolution does not matter, short enough to interleave finely. */
const BYTES_PER_BATCH = 256 * 1024;
/** Plaintext per kind and size. */
const BYTES_PER_KIND = 48 * 1024 * 1024;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** MB/s of one batch: `ops` calls of `fn` on `size`-byte messages. */
async function batch(size: number, ops: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (size * ops) / 1e6 / s;
}

export interface CryptoBenchRow {
  size: number;
  rawMBs: number;
  sealMBs: number;
  openMBs: number;
  streamMBs: number;
  sealRatio: number;
  openRatio: number;
  streamRatio: number;
}

export async function runCryptoBench(): Promise<{ rows: CryptoBenchRow[]; targets: Record<string, boolean> }> {
  const kek: Kek = { id: "bench", version: 1, key: SecretKey.generate() };
  const usage = new MemoryKekUsage(Number.MAX_SAFE_INTEGER);
  const rawKey = Buffer.from(SecretKey.generate().exposeBytes());
  const nonce = Buffer.alloc(12);
  const resolveKek = () => kek.key;
  const rows: CryptoBenchRow[] = [];
  console.log("crypto: MB/s of plaintext, median of interleaved batches (noisy on a shared machine)");
  console.log("  size        raw node:crypto   envelope seal        envelope open        stream seal");
  for (const size of SIZES) {
    const msg = new Uint8Array(size);
    randomFillSync(msg);
    const envelope = sealEnvelope(msg, { cipher: "aes-256-gcm", kek, usage });
    const kinds: Record<string, () => unknown> = {
      raw: () => {
        randomFillSync(nonce);
        const c = createCipheriv("aes-256-gcm", rawKey, nonce);
        c.update(msg);
        c.final();
        return c.getAuthTag();
      },
      seal: () => sealEnvelope(msg, { cipher: "aes-256-gcm", kek, usage }),
      open: () => openEnvelope(envelope, { resolveKek }),
      stream: async () => {
        let n = 0;
        for await (const piece of sealStream([msg], { cipher: "aes-256-gcm", kek, usage })) n += piece.length;
        return n;
      },
    };
    const ops = Math.max(1, Math.round(BYTES_PER_BATCH / size));
    const rounds = Math.round(BYTES_PER_KIND / (ops * size));
    for (const fn of Object.values(kinds)) await batch(size, ops * 8, fn); // warm up
    const results: Record<string, number[]> = { raw: [], seal: [], open: [], stream: [] };
    for (let i = 0; i < rounds; i++) {
      for (const [kind, fn] of Object.entries(kinds)) results[kind]!.push(await batch(size, ops, fn));
    }
    const [raw, seal, open, stream] = (["raw", "seal", "open", "stream"] as const).map((k) => median(results[k]!)) as [number, number, number, number];
    const row = { size, rawMBs: raw, sealMBs: seal, openMBs: open, streamMBs: stream, sealRatio: seal / raw, openRatio: open / raw, streamRatio: stream / raw };
    rows.push(row);
    const cell = (v: number, r: number) => `${v.toFixed(0).padStart(6)} (${(r * 100).toFixed(0).padStart(3)}%)`;
    const label = size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : `${size / 1024} KiB`;
    console.log(`  ${label.padEnd(8)} ${raw.toFixed(0).padStart(10)}          ${cell(seal, row.sealRatio)}       ${cell(open, row.openRatio)}       ${cell(stream, row.streamRatio)}`);
  }
  const small = rows[0]!, large = rows[rows.length - 1]!;
  const targets = { sealAt1MiB: large.sealRatio >= 0.9, sealAt1KiB: small.sealRatio >= 0.5, openAt1MiB: large.openRatio >= 0.9, openAt1KiB: small.openRatio >= 0.5 };
  console.log(
    `  targets: seal 1 MiB ${(large.sealRatio * 100).toFixed(0)}% (>= 90%) ${targets.sealAt1MiB ? "met" : "MISSED"}, ` +
      `seal 1 KiB ${(small.sealRatio * 100).toFixed(0)}% (>= 50%) ${targets.sealAt1KiB ? "met" : "MISSED"}; ` +
      `open 1 MiB ${(large.openRatio * 100).toFixed(0)}% ${targets.openAt1MiB ? "met" : "MISSED"}, open 1 KiB ${(small.openRatio * 100).toFixed(0)}% ${targets.openAt1KiB ? "met" : "MISSED"}`,
  );
  return { rows, targets };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runCryptoBench();
