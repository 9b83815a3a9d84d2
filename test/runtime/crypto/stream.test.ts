/**
 * Streams (format v2): round trips at chunk-boundary sizes for both ciphers,
 * the layout docs/envelope.md gives, bounded memory, and the STREAM
 * guarantees: every single-byte flip, every truncation, reordered, swapped,
 * dropped, duplicated and appended chunks all fail. Bound attributes, the TEE
 * flag, and rewrap (payload bytes untouched).
 */
import t from "tap";
import { randomBytes } from "node:crypto";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";
import { MemoryKekUsage } from "../../../src/runtime/crypto/kek-usage.js";
import { EnvelopeError, sealEnvelope, type Kek } from "../../../src/runtime/crypto/envelope.js";
import { collectBytes, inspectStream, openStream, rewrapStream, sealStream, type StreamSealOptions } from "../../../src/runtime/crypto/stream.js";
import type { AttestationProvider } from "../../../src/runtime/crypto/attestation.js";

const kek: Kek = { id: "k1", version: 3, key: SecretKey.generate() };
const kek4: Kek = { id: "k1", version: 4, key: SecretKey.generate() };
const ring = new Map([["k1/3", kek.key], ["k1/4", kek4.key]]);
const resolveKek = (id: string, version: number) => ring.get(`${id}/${version}`);
const attributes = { tenant_id: "acme", record_id: 42, phi: true };
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
const random = (n: number) => Uint8Array.from(randomBytes(n));
const ATTESTED: AttestationProvider = { name: "test", attest: () => ({ attested: true, provider: "test" }) };

/** Splits bytes into pieces of varying sizes, as a file stream would deliver them. */
function* pieces(bytes: Uint8Array, sizes = [1, 7, 64, 3, 1000]): Generator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function seal(plain: Uint8Array, options: Partial<StreamSealOptions> = {}): Promise<Uint8Array> {
  return collectBytes(sealStream(pieces(plain), { cipher: "aes-256-gcm", kek, ...options }));
}

async function openError(stream: Uint8Array, options: Parameters<typeof openStream>[1] = { resolveKek }): Promise<Error | undefined> {
  try {
    await collectBytes(openStream(pieces(stream), options));
  } catch (e) {
    if (e instanceof EnvelopeError || (e as Error).name === "KeyringError") return e as Error;
    throw e; // a RangeError or TypeError is a bug the test must show
  }
  return undefined;
}

t.test("round trips at chunk boundaries, both ciphers", async (t) => {
  for (const cipher of ["aes-256-gcm", "aes-256-gcm-siv"] as const) {
    for (const chunkSize of [1, 16, 4096]) {
      for (const len of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize, 3 * chunkSize + 5]) {
        if (len < 0) continue;
        const plain = random(len);
        const stream = await seal(plain, { cipher, chunkSize, aadFields: ["tenant_id"], attributes });
        const opened = await collectBytes(openStream(pieces(stream, [5, 100, 2]), { resolveKek }));
        t.ok(sameBytes(opened, plain), `${cipher} chunk ${chunkSize} len ${len}`);
      }
    }
  }
  const big = random(3 * 1024 * 1024 + 17);
  t.ok(sameBytes(await collectBytes(openStream([await seal(big)], { resolveKek })), big), "3 MiB with the default 64 KiB chunks");
});

t.test("layout matches docs/envelope.md", async (t) => {
  const s = await seal(new TextEncoder().encode("hello world"), { chunkSize: 8, aadFields: ["tenant_id", "record_id"], attributes, teeRequired: true });
  t.same([...s.subarray(0, 7)], [0x53, 0x50, 0x45, 0x56, 2, 1, 1], "magic, version 2, cipher 1, flags 1 (TEE)");
  t.same([...s.subarray(7, 10)], [2, 0x6b, 0x31], "KEK id k1");
  t.same([...s.subarray(10, 14)], [0, 0, 0, 3], "KEK version 3");
  // 14..26 wrap nonce, 26..74 wrapped key
  t.same([...s.subarray(74, 78)], [0, 0, 0, 8], "chunk size 8");
  // 78..85 nonce prefix
  t.equal(s[85], 2, "two AAD fields");
  t.equal(Buffer.from(s.subarray(86, 96)).toString(), "\x09record_id");
  t.same([...s.subarray(96, 101)], [0x6e, 0, 0, 0, 2], "number, 2 bytes");
  t.equal(Buffer.from(s.subarray(101, 103)).toString(), "42");
  t.equal(Buffer.from(s.subarray(103, 113)).toString(), "\x09tenant_id");
  t.same([...s.subarray(113, 118)], [0x73, 0, 0, 0, 4], "string, 4 bytes");
  t.equal(Buffer.from(s.subarray(118, 122)).toString(), "acme");
  t.equal(s.length, 122 + (8 + 16) + (3 + 16), "two chunks: 8 + 3 plaintext bytes, each with a tag");
  let header;
  await collectBytes(openStream([s], { resolveKek, attestation: ATTESTED, onHeader: (h) => (header = h) }));
  t.match(header, { cipher: "aes-256-gcm", teeRequired: true, kekId: "k1", kekVersion: 3, chunkSize: 8, aad: [["record_id", 42], ["tenant_id", "acme"]] });
});

t.test("bounded memory: output is produced as input arrives", async (t) => {
  let pulled = 0;
  async function* slow(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 100; i++) {
      pulled++;
      yield new Uint8Array(1024);
    }
  }
  const out = sealStream(slow(), { cipher: "aes-256-gcm", kek, chunkSize: 1024 });
  await out.next(); // header
  const first = await out.next();
  t.equal((first.value as Uint8Array).length, 1024 + 16);
  t.ok(pulled <= 3, `only ${pulled} input pieces read for the first chunk`);
  let biggest = 0;
  for await (const c of out) biggest = Math.max(biggest, c.length);
  t.equal(biggest, 1024 + 16, "no output piece larger than a sealed chunk");
});

t.test("every single-byte flip and every truncation fails", async (t) => {
  for (const cipher of ["aes-256-gcm", "aes-256-gcm-siv"] as const) {
    const s = await seal(random(40), { cipher, chunkSize: 16, aadFields: ["tenant_id"], attributes });
    t.equal(await openError(s), undefined, "control: the untouched stream opens");
    let refused = 0;
    for (let i = 0; i < s.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const bad = Uint8Array.from(s);
        bad[i]! ^= mask;
        if ((await openError(bad)) !== undefined) refused++;
        else t.fail(`${cipher}: byte ${i} ^ ${mask} still opens`);
      }
    }
    t.equal(refused, s.length * 2, `${cipher}: all ${s.length * 2} flips refused`);
    for (let n = 0; n < s.length; n++) {
      if ((await openError(s.subarray(0, n))) === undefined) t.fail(`${cipher}: truncated to ${n} bytes still opens`);
    }
  }
});

t.test("reordered, swapped, dropped, duplicated and appended chunks fail", async (t) => {
  const chunkSize = 16, sealed = chunkSize + 16;
  const s = await seal(random(4 * chunkSize + 5), { chunkSize }); // chunks 0-3 full, chunk 4 final (5 bytes)
  const headerLen = s.length - (4 * sealed + 5 + 16);
  const header = s.subarray(0, headerLen);
  const chunks = [0, 1, 2, 3].map((i) => s.subarray(headerLen + i * sealed, headerLen + (i + 1) * sealed));
  const final = s.subarray(headerLen + 4 * sealed);
  const build = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat([header, ...parts]));
  t.equal(await openError(build(...chunks, final)), undefined, "control: reassembled in order, it opens");
  const other = await seal(random(4 * chunkSize + 5), { chunkSize });
  const otherChunk1 = other.subarray(headerLen + sealed, headerLen + 2 * sealed);
  const cases: Record<string, Uint8Array> = {
    "chunks 1 and 2 swapped": build(chunks[0]!, chunks[2]!, chunks[1]!, chunks[3]!, final),
    "chunk 2 dropped": build(chunks[0]!, chunks[1]!, chunks[3]!, final),
    "chunk 1 repeated": build(chunks[0]!, chunks[1]!, chunks[1]!, chunks[2]!, chunks[3]!, final),
    "final chunk dropped (cut at a boundary)": build(...chunks),
    "cut after chunk 0": build(chunks[0]!),
    "header only": build(),
    "final chunk repeated": build(...chunks, final, final),
    "a chunk appended after the final one": build(...chunks, final, chunks[0]!),
    "one byte appended": build(...chunks, final, Uint8Array.of(0)),
    "final chunk moved first": build(final, ...chunks),
    "chunk 1 from another stream": build(chunks[0]!, otherChunk1, chunks[2]!, chunks[3]!, final),
  };
  for (const [what, bytes] of Object.entries(cases)) {
    const err = await openError(bytes);
    t.ok(err !== undefined && ["not-authentic", "truncated"].includes((err as EnvelopeError).code), `${what}: ${err?.message}`);
  }
  t.match(await openError(build(...chunks)), { code: "not-authentic", message: /chunk 3 is not authentic: the data was modified, truncated, reordered or extended/ });
  t.match(await openError(build()), { code: "truncated", message: /ends before its final chunk/ });
});

t.test("bound attributes: stored, authenticated, checked against expectations", async (t) => {
  const s = await seal(random(10), { aadFields: ["tenant_id", "record_id"], attributes });
  t.equal(await openError(s, { resolveKek, attributes }), undefined);
  t.equal(await openError(s, { resolveKek, attributes: { tenant_id: "acme", record_id: 42 } }), undefined, "unbound fields may differ");
  t.match(await openError(s, { resolveKek, attributes: { ...attributes, tenant_id: "evil" } }), { code: "aad-mismatch", message: /different "tenant_id"/ });
  t.match(await openError(s, { resolveKek, attributes: { ...attributes, record_id: "42" } }), { code: "aad-mismatch" }, "string 42 is not number 42");
  t.match(await openError(s, { resolveKek, attributes: { tenant_id: "acme" } }), { code: "missing-aad" });
  t.match(
    await openError(s, { resolveKek, attributes, onlyBound: true }),
    { code: "aad-mismatch", message: /does not bind "phi"/ },
    "onlyBound: an expected field the stream does not bind refuses",
  );
  t.equal(await openError(s, { resolveKek, attributes: { tenant_id: "acme", record_id: 42 }, onlyBound: true }), undefined, "onlyBound: exactly the bound fields open");
  const bare = await seal(random(10));
  t.match(await openError(bare, { resolveKek, attributes: { record_id: 42 }, onlyBound: true }), { code: "aad-mismatch", message: /binds no attributes/ });
  const usage = new MemoryKekUsage();
  const refused = sealStream([random(5)], { cipher: "aes-256-gcm", kek, aadFields: ["patient_id"], attributes, usage });
  await t.rejects(refused.next(), { code: "missing-aad" }, "refused before the header is produced");
  t.equal(usage.count("k1", 3), 0, "and before the KEK's budget is used");
  await t.rejects(collectBytes(sealStream([], { cipher: "aes-256-gcm", kek, aadFields: ["x"], attributes: { x: "y".repeat(5000) } })), { code: "bad-aad-value" });
  await t.rejects(collectBytes(sealStream([], { cipher: "aes-256-gcm", kek, chunkSize: 0 })), { code: "too-large" });
  await t.rejects(collectBytes(sealStream([], { cipher: "aes-256-gcm", kek, chunkSize: 16 * 1024 * 1024 + 1 })), { code: "too-large" });
});

t.test("attribute values that would bind the same bytes as another value are refused", async (t) => {
  await t.rejects(collectBytes(sealStream([random(3)], { cipher: "aes-256-gcm", kek, aadFields: ["tenant_id"], attributes: { tenant_id: "acme\ud800" } })), {
    code: "bad-aad-value",
  });
  await t.rejects(collectBytes(sealStream([random(3)], { cipher: "aes-256-gcm", kek, aadFields: ["record_id"], attributes: { record_id: 2 ** 60 } })), {
    code: "bad-aad-value",
  });
  const s = await seal(random(10), { aadFields: ["tenant_id"], attributes: { tenant_id: "acme\ufffd" } });
  t.match(await openError(s, { resolveKek, attributes: { tenant_id: "acme\ud800" } }), { code: "bad-aad-value" });
  t.equal(await openError(s, { resolveKek, attributes: { tenant_id: "acme\ufffd" } }), undefined);
});

t.test("TEE flag: refused without attestation, opened with it", async (t) => {
  const s = await seal(random(10), { teeRequired: true });
  t.match(await openError(s), { code: "not-attested", message: /requires a TEE to decrypt and this environment is not attested \(provider "none": no attestation provider is configured\)/ });
  t.equal(await openError(s, { resolveKek, attestation: ATTESTED }), undefined);
  const throwing: AttestationProvider = { name: "broken", attest: () => Promise.reject(new Error("device missing")) };
  t.match(await openError(s, { resolveKek, attestation: throwing }), { code: "not-attested", message: /provider "broken": the provider failed: device missing/ });
  const odd = { name: "odd", attest: () => ({ attested: "yes" }) } as unknown as AttestationProvider;
  t.match(await openError(s, { resolveKek, attestation: odd }), { code: "not-attested" }, "only attested === true counts");
});

t.test("KEKs: unknown, wrong, retired", async (t) => {
  const s = await seal(random(10));
  t.match(await openError(s, { resolveKek: () => undefined }), { code: "unknown-kek", message: /"k1" version 3/ });
  t.match(await openError(s, { resolveKek: () => SecretKey.generate() }), { code: "not-authentic", message: /wrapped data key/ });
  const retired = () => {
    const e = new Error("KEK \"k1\" version 3 was retired and no longer decrypts");
    e.name = "KeyringError";
    throw e;
  };
  t.match(await openError(s, { resolveKek: retired }), { name: "KeyringError", message: /retired/ });
});

t.test("rewrap: new KEK in the header, payload bytes untouched", async (t) => {
  const plain = random(100);
  const s = await seal(plain, { chunkSize: 32, aadFields: ["tenant_id"], attributes, teeRequired: true });
  const r = await collectBytes(rewrapStream(pieces(s), { resolveKek, kek: kek4 }));
  t.equal(r.length, s.length, "same id length, same size");
  t.same([...r.subarray(10, 14)], [0, 0, 0, 4], "now KEK version 4");
  const payloadStart = 74; // after the wrapped key: stream section and chunks are unchanged
  t.ok(sameBytes(r.subarray(payloadStart), s.subarray(payloadStart)), "stream section and every chunk byte-identical");
  t.ok(sameBytes(r.subarray(0, 7), s.subarray(0, 7)), "fixed section (flags too) unchanged");
  const only4 = (id: string, v: number) => (v === 4 ? resolveKek(id, v) : undefined);
  t.ok(sameBytes(await collectBytes(openStream([r], { resolveKek: only4, attestation: ATTESTED })), plain), "opens with only the new KEK");
  const otherId: Kek = { id: "tenant-kek", version: 1, key: SecretKey.generate() };
  const moved = await collectBytes(rewrapStream([s], { resolveKek, kek: otherId }));
  const viaOther = (id: string, v: number) => (id === "tenant-kek" && v === 1 ? otherId.key : undefined);
  t.ok(sameBytes(await collectBytes(openStream([moved], { resolveKek: viaOther, attestation: ATTESTED })), plain), "another KEK id (header length changes)");
  await t.rejects(collectBytes(rewrapStream([s], { resolveKek: () => SecretKey.generate(), kek: kek4 })), { code: "not-authentic" });
  const v1 = sealEnvelope(plain, { cipher: "aes-256-gcm", kek });
  await t.rejects(collectBytes(rewrapStream([v1], { resolveKek, kek: kek4 })), { code: "cannot-rewrap" });
  await t.rejects(collectBytes(openStream([v1], { resolveKek })), { code: "unsupported-version", message: /version-1 envelope, not a stream/ });
  await t.rejects(collectBytes(openStream([new TextEncoder().encode("hello")], { resolveKek })), { code: "not-an-envelope" });
});

t.test("inspectStream reads the header, then stops its source (a file stream releases its descriptor)", async (t) => {
  const sealed = await seal(random(3000), { chunkSize: 512 });
  for (const [name, bytes] of [
    ["a whole stream", sealed],
    ["a header cut short", sealed.subarray(0, 20)],
    ["not an envelope", random(100)],
  ] as const) {
    let stopped = false;
    async function* source() {
      try {
        yield* pieces(bytes, [16]);
      } finally {
        stopped = true;
      }
    }
    await inspectStream(source()).then(
      (h) => t.equal(h.kekVersion, 3, name),
      (err) => t.type(err, EnvelopeError, name),
    );
    t.ok(stopped, `${name}: the source was stopped`);
  }
});
