/**
 * Fuzzing decryption: envelopes (v1) and streams (v2) sealed under both
 * ciphers with 0 to 3 bound attributes, then mutated (bit flips, header
 * bytes set to 0, 0x7f, 0x80, 0xff, 32-bit length fields set to absurd
 * values, truncation, extension, cut-outs, random bytes) and opened with
 * both providers, header readers included. Every mutant fails with an
 * EnvelopeError or CryptoError (never a TypeError or RangeError, never a
 * hang or a huge allocation, never plaintext); every unmutated one opens to
 * its plaintext. Streams are sometimes re-wrapped under another KEK first.
 *
 * FUZZ_CASES (default 3000) and FUZZ_SEED (default fixed, printed) tune it.
 */
import t from "tap";
import {
  CryptoError,
  EnvelopeError,
  SecretKey,
  collectBytes,
  inspectStream,
  nobleAead,
  nodeAead,
  openEnvelope,
  openStream,
  readEnvelopeHeader,
  rewrapStream,
  sealEnvelope,
  sealStream,
} from "../../../src/index.js";
import { prng } from "../../support/prng.js";

const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 0xc0ffee);

t.test(`decryption survives ${CASES} mutated envelopes and streams (seed ${SEED})`, async (t) => {
  const rnd = prng(SEED);
  const pick = (n: number) => Math.floor(rnd() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => pick(256));
  const kek = { id: "k1", version: 3, key: SecretKey.generate() };
  const kek2 = { id: "k2", version: 1, key: SecretKey.generate() };
  const resolveKek = (id: string, version: number) => (id === "k1" && version === 3 ? kek.key : id === "k2" && version === 1 ? kek2.key : undefined);
  const attributes = { tenant_id: "acme", record_id: 42, phi: true };
  const clean = (e: unknown) => e instanceof EnvelopeError || e instanceof CryptoError;
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

  const samples: { kind: "envelope" | "stream"; sealed: Uint8Array; plain: Uint8Array; cipher: string }[] = [];
  for (const cipher of ["aes-256-gcm", "aes-256-gcm-siv"] as const) {
    for (const aadFields of [[], ["tenant_id"], ["phi", "record_id", "tenant_id"]]) {
      const plain = bytes(pick(100));
      samples.push({ kind: "envelope", sealed: sealEnvelope(plain, { cipher, kek, aadFields, attributes }), plain, cipher });
      const p2 = bytes(pick(300));
      const sealed = await collectBytes(sealStream([p2], { cipher, kek, aadFields, attributes, chunkSize: 1 + pick(64) }));
      samples.push({ kind: "stream", sealed, plain: p2, cipher });
    }
  }

  const mutate = (s: Uint8Array): Uint8Array => {
    let b = Uint8Array.from(s);
    for (let r = 1 + pick(3); r > 0; r--) {
      switch (pick(7)) {
        case 0:
          if (b.length > 0) b[pick(b.length)]! ^= 1 << pick(8);
          break;
        case 1:
          b = b.subarray(0, pick(b.length));
          break;
        case 2: {
          const extra = bytes(1 + pick(40));
          const out = new Uint8Array(b.length + extra.length);
          out.set(b);
          out.set(extra, b.length);
          b = out;
          break;
        }
        case 3: // a header byte (lengths, counts, versions, ids) set to an edge value
          if (b.length > 0) b[pick(Math.min(b.length, 120))] = [0, 1, 0x7f, 0x80, 0xff][pick(5)]!;
          break;
        case 4: {
          // a 32-bit field (KEK version, chunk size, AAD value length) set to an absurd value
          const at = pick(Math.min(b.length, 120));
          if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, [0xffffffff, 0x7fffffff, 0x01000000, 16 * 1024 * 1024, 16 * 1024 * 1024 + 1][pick(5)]!);
          break;
        }
        case 5:
          b = bytes(pick(300));
          break;
        default: {
          const i = pick(b.length + 1);
          const j = i + pick(b.length - i + 1);
          b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(j)]);
          break;
        }
      }
    }
    return b;
  };
  function* pieces(b: Uint8Array): Generator<Uint8Array> {
    for (let at = 0; at < b.length; ) {
      const n = 1 + pick(200);
      yield b.subarray(at, at + n);
      at += n;
    }
  }

  let failures = 0;
  const fail = (msg: string) => {
    failures++;
    t.fail(msg);
  };
  for (let n = 0; n < CASES && failures < 5; n++) {
    const s = samples[pick(samples.length)]!;
    const m = pick(10) === 0 ? s.sealed : mutate(s.sealed);
    const unchanged = same(m, s.sealed);
    const provider = pick(2) === 0 ? nodeAead : nobleAead;
    const where = `case ${n} (seed ${SEED}): ${s.kind}, ${s.cipher}, ${provider === nodeAead ? "node" : "noble"}${unchanged ? ", unmutated" : ""}`;
    try {
      try {
        if (s.kind === "envelope") readEnvelopeHeader(m);
        else await inspectStream(pieces(m));
      } catch (e) {
        if (!clean(e)) throw e;
      }
      // Streams are also re-wrapped first, a third of the time: rewrap does not check the payload, opening must.
      const stream = s.kind === "stream" && pick(3) === 0 ? await collectBytes(rewrapStream(pieces(m), { resolveKek, kek: kek2, provider })) : m;
      const out = s.kind === "envelope" ? openEnvelope(m, { resolveKek, attributes, provider }) : await collectBytes(openStream(pieces(stream), { resolveKek, attributes, provider }));
      if (!unchanged) fail(`${where}: a mutant opened (${out.length} bytes)`);
      else if (!same(out, s.plain)) fail(`${where}: opened to other bytes`);
    } catch (e) {
      if (!clean(e)) fail(`${where}: ${(e as Error)?.stack ?? String(e)}`);
      // node:crypto has no GCM-SIV: that refusal is the only one an unmutated sample may meet.
      else if (unchanged && !(provider === nodeAead && s.cipher === "aes-256-gcm-siv")) fail(`${where}: failed: ${(e as Error).message}`);
    }
  }
  t.equal(failures, 0, `no failures in ${CASES} cases`);
});
