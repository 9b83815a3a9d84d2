/**
 * Envelope encryption: round trips for both ciphers and providers, the byte
 * layout docs/envelope.md describes, refusal of missing AAD fields, unknown
 * KEKs and the per-KEK wrap limit, and tamper resistance: every single-byte
 * change, truncation or extension of an envelope fails to open.
 */
import t from "tap";
import { randomBytes } from "node:crypto";
import { nobleAead } from "../../../src/runtime/crypto/noble-aead.js";
import { nodeAead } from "../../../src/runtime/crypto/node-aead.js";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";
import { MemoryKekUsage } from "../../../src/runtime/crypto/kek-usage.js";
import { EnvelopeError, openEnvelope, readEnvelopeHeader, sealEnvelope, type Kek } from "../../../src/runtime/crypto/envelope.js";

const kekBytes = Uint8Array.from(randomBytes(32));
const kek: Kek = { id: "k1", version: 3, key: SecretKey.from(kekBytes) };
const resolveKek = (id: string, version: number) => (id === "k1" && version === 3 ? kek.key : undefined);
const attributes = { tenant: "acme", record_id: 42, phi: true };
const aadFields = ["tenant", "record_id"];
const text = (s: string) => new TextEncoder().encode(s);
// Byte equality without tap's deep diff, which is very slow on MiB arrays.
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

function openError(envelope: Uint8Array, attrs: Record<string, unknown> = attributes): EnvelopeError | undefined {
  try {
    openEnvelope(envelope, { resolveKek, attributes: attrs });
  } catch (e) {
    if (e instanceof EnvelopeError) return e;
    throw e; // anything else (RangeError, TypeError) is a bug the test must show
  }
  return undefined;
}

t.test("round trips: both ciphers, with and without AAD, empty to 1 MiB", async (t) => {
  for (const cipher of ["aes-256-gcm", "aes-256-gcm-siv"] as const) {
    for (const len of [0, 1, 1000, 1 << 20]) {
      const msg = Uint8Array.from(randomBytes(len));
      const env = sealEnvelope(msg, { cipher, kek, aadFields, attributes });
      t.ok(sameBytes(openEnvelope(env, { resolveKek, attributes }), msg), `${cipher} ${len} bytes`);
      const bare = sealEnvelope(msg, { cipher, kek });
      t.ok(sameBytes(openEnvelope(bare, { resolveKek }), msg), `${cipher} ${len} bytes, no AAD`);
    }
  }
});

t.test("providers interoperate through the envelope", async (t) => {
  const msg = text("cross-provider");
  const byNoble = sealEnvelope(msg, { cipher: "aes-256-gcm", kek, aadFields, attributes, provider: nobleAead });
  t.same(openEnvelope(byNoble, { resolveKek, attributes, provider: nodeAead }), msg);
  const byNode = sealEnvelope(msg, { cipher: "aes-256-gcm", kek, aadFields, attributes, provider: nodeAead });
  t.same(openEnvelope(byNode, { resolveKek, attributes, provider: nobleAead }), msg);
});

t.test("layout matches docs/envelope.md", async (t) => {
  const msg = text("hello");
  const env = sealEnvelope(msg, { cipher: "aes-256-gcm-siv", kek, aadFields: ["tenant", "record_id", "tenant"], attributes });
  // Written from the document, offset by offset.
  t.same([...env.subarray(0, 4)], [0x53, 0x50, 0x45, 0x56], "magic SPEV");
  t.equal(env[4], 1, "format version");
  t.equal(env[5], 2, "cipher id 2 = AES-256-GCM-SIV");
  t.equal(env[6], 2, "KEK id length");
  t.equal(Buffer.from(env.subarray(7, 9)).toString(), "k1");
  t.same([...env.subarray(9, 13)], [0, 0, 0, 3], "KEK version, big-endian");
  // 13..25 wrap nonce, 25..73 wrapped data key (32 + 16 tag)
  t.equal(env[73], 2, "two AAD fields (deduplicated)");
  t.equal(env[74], 9);
  t.equal(Buffer.from(env.subarray(75, 84)).toString(), "record_id", "names sorted");
  t.equal(env[84], 6);
  t.equal(Buffer.from(env.subarray(85, 91)).toString(), "tenant");
  // 91..103 payload nonce, then ciphertext (5) and tag (16)
  t.equal(env.length, 103 + msg.length + 16);
  const h = readEnvelopeHeader(env);
  t.same(
    { cipher: h.cipher, kekId: h.kekId, kekVersion: h.kekVersion, aadFields: h.aadFields },
    { cipher: "aes-256-gcm-siv", kekId: "k1", kekVersion: 3, aadFields: ["record_id", "tenant"] },
  );
  t.same(h.wrapNonce, env.subarray(13, 25));
  t.same(h.wrappedKey, env.subarray(25, 73));
  t.same(h.nonce, env.subarray(91, 103));
});

t.test("a damaged header is refused by what is wrong with it, before any key is looked up", async (t) => {
  // Layout as in the test above: magic 0..4, version 4, cipher 5, KEK id length 6, "k1" 7..9, KEK
  // version 9..13, wrap nonce and wrapped key 13..73, AAD count 73, names 74..91, payload nonce 91..103.
  const env = sealEnvelope(text("hello"), { cipher: "aes-256-gcm", kek, aadFields, attributes });
  const edited = (at: number, ...bytes: number[]) => {
    const out = Uint8Array.from(env);
    out.set(bytes, at);
    return out;
  };
  const truncatedAt = (n: number): [string, Uint8Array, string, string] => [`cut to ${n} bytes`, env.subarray(0, n), "malformed", "envelope is truncated"];
  const cases: Array<[string, Uint8Array, string, string]> = [
    ["not the magic", text("SPEX and more"), "not-an-envelope", "not a swarm-policy envelope"],
    truncatedAt(4),
    truncatedAt(5),
    truncatedAt(6),
    ["version 2", edited(4, 2), "unsupported-version", "envelope version 2 is not supported"],
    ["version 2, cut after the cipher id", edited(4, 2).subarray(0, 6), "unsupported-version", "envelope version 2 is not supported"],
    ["cipher id 9", edited(5, 9), "unknown-cipher", "unknown cipher id"],
    ["an empty KEK id", edited(6, 0), "malformed", "empty KEK id"],
    ["a KEK id longer than the rest", edited(6, 255).subarray(0, 200), "malformed", "envelope is truncated"],
    ["a KEK id that is not UTF-8", edited(7, 0xff), "malformed", "KEK id is not UTF-8"],
    truncatedAt(12),
    ["KEK version 0", edited(9, 0, 0, 0, 0), "malformed", "KEK version 0"],
    ["KEK version 0, cut after it", edited(9, 0, 0, 0, 0).subarray(0, 13), "malformed", "KEK version 0"],
    truncatedAt(73),
    ["an empty AAD field name", edited(74, 0), "malformed", "empty AAD field name"],
    ["an AAD field name twice", edited(74, 6, ...text("tenant"), 6, ...text("tenant")), "malformed", "AAD field names are not sorted and unique"],
    ["AAD field names out of order", edited(74, 6, ...text("tenant"), 9, ...text("record_id")), "malformed", "AAD field names are not sorted and unique"],
    truncatedAt(91),
    truncatedAt(103),
    truncatedAt(103 + 15),
  ];
  for (const [what, bytes, code, message] of cases) {
    t.throws(() => readEnvelopeHeader(bytes), { code, message }, `${what}: readEnvelopeHeader`);
    let looked = false;
    const err = (() => {
      try {
        openEnvelope(bytes, { resolveKek: (id, v) => ((looked = true), resolveKek(id, v)), attributes });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    t.match(err, { code, message }, `${what}: openEnvelope`);
    t.notOk(looked, `${what}: no KEK looked up`);
  }
  t.same(readEnvelopeHeader(env.subarray(0, 103 + 16)).kekId, "k1", "an empty payload with its tag is whole");
});

t.test("names and versions at their bounds seal and open", async (t) => {
  for (const id of ["k", "k".repeat(255)]) {
    for (const version of [1, 0x01020304, 2 ** 32 - 1]) {
      const k: Kek = { id, version, key: kek.key };
      const env = sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek: k, aadFields: ["a", "f".repeat(255)], attributes: { a: 1, ["f".repeat(255)]: 2 } });
      const h = readEnvelopeHeader(env);
      t.same([h.kekId.length, h.kekVersion, h.aadFields.length], [id.length, version, 2]);
      t.equal(new TextDecoder().decode(openEnvelope(env, { resolveKek: () => kek.key, attributes: { a: 1, ["f".repeat(255)]: 2 } })), "x");
    }
  }
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek: { ...kek, version: 2 ** 32 } }), { code: "bad-request" });
  const many = Array.from({ length: 256 }, (_, i) => `f${String(i).padStart(3, "0")}`);
  const values = Object.fromEntries(many.map((f) => [f, 1]));
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields: many, attributes: values }), { code: "bad-request", message: "at most 255 AAD fields" });
  const env = sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields: many.slice(0, 255), attributes: values });
  t.equal(readEnvelopeHeader(env).aadFields.length, 255, "255 fields are allowed");
});

t.test("fresh data key and nonces per envelope", async (t) => {
  const msg = text("same message");
  const a = sealEnvelope(msg, { cipher: "aes-256-gcm", kek });
  const b = sealEnvelope(msg, { cipher: "aes-256-gcm", kek });
  const ha = readEnvelopeHeader(a), hb = readEnvelopeHeader(b);
  t.notSame(ha.wrapNonce, hb.wrapNonce);
  t.notSame(ha.wrappedKey, hb.wrappedKey);
  t.notSame(ha.nonce, hb.nonce);
  t.notSame(a.subarray(-28), b.subarray(-28));
});

t.test("every single-byte change, truncation and extension fails to open", async (t) => {
  for (const cipher of ["aes-256-gcm", "aes-256-gcm-siv"] as const) {
    const env = sealEnvelope(text("twenty bytes of data"), { cipher, kek, aadFields, attributes });
    t.ok(openError(env) === undefined, "control: the untouched envelope opens");
    let failures = 0;
    for (let i = 0; i < env.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Uint8Array.from(env);
        bad[i]! ^= mask;
        if (openError(bad) !== undefined) failures++;
        else t.fail(`${cipher}: byte ${i} ^ ${mask} still opens`);
      }
    }
    t.equal(failures, env.length * 3, `${cipher}: all ${env.length * 3} flips refused`);
    for (let n = 0; n < env.length; n++) {
      if (openError(env.subarray(0, n)) === undefined) t.fail(`${cipher}: truncated to ${n} still opens`);
    }
    t.ok(openError(Uint8Array.from([...env, 0])) !== undefined, `${cipher}: an appended byte is refused`);
  }
});

t.test("attributes: missing fields are refused, changed values are not authentic", async (t) => {
  const usage = new MemoryKekUsage();
  t.throws(
    () => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields: ["tenant", "patient_id"], attributes, usage }),
    { name: "EnvelopeError", code: "missing-aad", message: /patient_id/ },
  );
  t.equal(usage.count("k1", 3), 0, "a refused seal uses no wrap");
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields: ["obj"], attributes: { obj: { a: 1 } } }), {
    code: "bad-aad-value",
  });
  const env = sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes });
  t.equal(openError(env, { tenant: "acme" })?.code, "missing-aad");
  t.equal(openError(env, { ...attributes, tenant: "evil" })?.code, "not-authentic");
  t.equal(openError(env, { ...attributes, record_id: "42" })?.code, "not-authentic", "string '42' is not number 42");
  t.equal(openError(env, { ...attributes, phi: false }), undefined, "fields not bound do not matter");
  const onlyBound = (e: Uint8Array, attrs: Record<string, unknown>) => {
    try {
      openEnvelope(e, { resolveKek, attributes: attrs, onlyBound: true });
      return undefined;
    } catch (err) {
      return err as EnvelopeError;
    }
  };
  t.match(onlyBound(env, attributes), { code: "aad-mismatch", message: /does not bind "phi".*binds only record_id, tenant/ }, "onlyBound: an unbound field refuses");
  t.equal(onlyBound(env, { tenant: "acme", record_id: 42 }), undefined, "onlyBound: exactly the bound fields open");
  const bare = sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek });
  t.match(onlyBound(bare, { record_id: 42 }), { code: "aad-mismatch", message: /binds no attributes/ }, "onlyBound: data binding nothing");
  t.equal(onlyBound(bare, {}), undefined);
});

t.test("attribute values that would bind the same bytes as another value are refused", async (t) => {
  // UTF-8 has no lone surrogate: TextEncoder writes U+FFFD for one, so "acme\ud800" and "acme\ufffd"
  // would bind identical AAD and each open the other's data.
  const lone = { tenant: "acme\ud800", record_id: 42 };
  const replacement = { tenant: "acme\ufffd", record_id: 42 };
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes: lone }), { code: "bad-aad-value", message: /"tenant".*lone surrogate/ });
  const env = sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes: replacement });
  t.equal(openError(env, lone)?.code, "bad-aad-value", "the lone surrogate does not open data bound to U+FFFD");
  t.equal(openError(env, replacement), undefined);
  const pair = { tenant: "acme\ud83d\ude00", record_id: 42 };
  t.equal(openError(sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes: pair }), pair), undefined, "a surrogate pair (an emoji) is fine");
  // A JSON number past 2^53 is not the number written: 9007199254740993 parses as ...992, so two
  // record ids would bind the same value. Sealing refuses them: pass such ids as strings.
  const big = JSON.parse('{"tenant":"acme","record_id":9007199254740993}') as Record<string, unknown>;
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes: big }), { code: "bad-aad-value", message: /"record_id".*safe integer/ });
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes: { tenant: "acme", record_id: 1e300 } }), { code: "bad-aad-value" });
  t.doesNotThrow(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes: { tenant: "acme", record_id: Number.MAX_SAFE_INTEGER } }));
  t.doesNotThrow(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes: { tenant: "acme", record_id: 0.5 } }));
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields: ["a\udc00"], attributes: { "a\udc00": "x" } }), { code: "bad-request" }, "a field name too");
});

t.test("KEKs: unknown id or version, wrong key, old versions after rotation", async (t) => {
  const env = sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek });
  t.throws(() => openEnvelope(env, { resolveKek: () => undefined }), { code: "unknown-kek", message: /"k1" version 3/ });
  t.throws(() => openEnvelope(env, { resolveKek: () => SecretKey.generate() }), { code: "not-authentic" });
  const v4: Kek = { id: "k1", version: 4, key: SecretKey.generate() };
  const ring = new Map([["k1/3", kek.key], ["k1/4", v4.key]]);
  const both = (id: string, version: number) => ring.get(`${id}/${version}`);
  const newer = sealEnvelope(text("new"), { cipher: "aes-256-gcm", kek: v4 });
  t.same(openEnvelope(env, { resolveKek: both }), text("x"), "old version still opens");
  t.same(openEnvelope(newer, { resolveKek: both }), text("new"));
  ring.delete("k1/3");
  t.throws(() => openEnvelope(env, { resolveKek: both }), { code: "unknown-kek" }, "retired version refuses");
});

t.test("headers name the KEK each envelope was sealed under, however KEKs alternate", async (t) => {
  // Wrap contexts are cached per cipher, KEK id and version (envelope-format.ts): alternate
  // between more KEKs than the cache holds, with ids and versions that differ in one part only.
  const keks: Kek[] = [];
  for (let i = 0; i < 70; i++) keks.push({ id: i % 2 === 0 ? `kek-${i}` : "kek-odd", version: i + 1, key: SecretKey.generate() });
  const byName = new Map(keks.map((k) => [`${k.id}/${k.version}`, k.key]));
  const resolve = (id: string, version: number) => byName.get(`${id}/${version}`);
  const sealed: Array<[Kek, "aes-256-gcm" | "aes-256-gcm-siv", Uint8Array]> = [];
  for (let round = 0; round < 3; round++) {
    for (const [i, k] of keks.entries()) {
      const cipher = (i + round) % 3 === 0 ? "aes-256-gcm-siv" : "aes-256-gcm";
      sealed.push([k, cipher, sealEnvelope(text(`${k.id} ${k.version} ${round}`), { cipher, kek: k })]);
    }
  }
  let wrong = 0;
  for (const [k, cipher, env] of sealed) {
    const h = readEnvelopeHeader(env);
    if (h.kekId !== k.id || h.kekVersion !== k.version || h.cipher !== cipher) wrong++;
    openEnvelope(env, { resolveKek: resolve }); // throws when the wrap context bound is not this header's
  }
  t.equal(wrong, 0, `all ${sealed.length} headers name their own KEK and cipher`);
});

t.test("per-KEK wrap limit is enforced", async (t) => {
  const usage = new MemoryKekUsage(2);
  sealEnvelope(text("1"), { cipher: "aes-256-gcm", kek, usage });
  sealEnvelope(text("2"), { cipher: "aes-256-gcm", kek, usage });
  t.throws(() => sealEnvelope(text("3"), { cipher: "aes-256-gcm", kek, usage }), { code: "key-limit" });
  const other: Kek = { id: "k1", version: 4, key: SecretKey.generate() };
  t.ok(sealEnvelope(text("3"), { cipher: "aes-256-gcm", kek: other, usage }).length > 0, "a rotated version has its own budget");
});

t.test("an asynchronous counter given to the synchronous sealEnvelope refuses, never seals uncounted", async (t) => {
  // What a JavaScript caller (or a cast) can pass: keyring.usage answers with a promise.
  for (const answer of [Promise.resolve(true), Promise.resolve(false), Promise.reject(new Error("busy"))]) {
    const usage = { take: () => answer } as unknown as MemoryKekUsage;
    t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, usage }), { code: "bad-request", message: /synchronous KEK counter/ });
  }
  const truthy = { take: () => 1 } as unknown as MemoryKekUsage;
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, usage: truthy }), { code: "key-limit" }, "only a literal true counts");
});

t.test("bad requests and errors never carry key material", async (t) => {
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek: { ...kek, id: "" } }), { code: "bad-request" });
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek: { ...kek, version: 0 } }), { code: "bad-request" });
  t.throws(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek: { ...kek, id: "x".repeat(256) } }), { code: "bad-request" });
  const env = sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes });
  const messages: string[] = [];
  for (let i = 0; i < env.length; i++) {
    const bad = Uint8Array.from(env);
    bad[i]! ^= 0x55;
    const err = openError(bad);
    if (err) messages.push(err.message + " " + JSON.stringify(err) + " " + String(err.stack));
  }
  const hex = Buffer.from(kekBytes).toString("hex"), b64 = Buffer.from(kekBytes).toString("base64");
  t.ok(messages.length === env.length);
  t.notOk(messages.some((m) => m.includes(hex) || m.includes(b64) || m.includes(hex.slice(0, 16))), "no KEK bytes in any error");
});

t.test("a provider failure that is not an authentication failure reaches the caller, never a result", async (t) => {
  const env = sealEnvelope(text("x"), { cipher: "aes-256-gcm", kek, aadFields, attributes });
  const broken = { ...nodeAead, name: "broken", open: () => {
    throw new Error("hardware module unavailable");
  } };
  t.throws(() => openEnvelope(env, { resolveKek, attributes, provider: broken }), { message: "hardware module unavailable" });
});

t.test("keys made for one envelope are wiped once it is sealed or opened", async (t) => {
  // The provider sees the data key twice on each side: wrapping or unwrapping it under the KEK, then
  // sealing or opening the payload under it.
  const dataKeys: SecretKey[] = [];
  const unwrapped: Uint8Array[] = [];
  const recording = {
    ...nodeAead,
    name: "recording",
    seal: (...a: Parameters<typeof nodeAead.seal>) => {
      if (a[1] !== kek.key) dataKeys.push(a[1]);
      return nodeAead.seal(...a);
    },
    open: (...a: Parameters<typeof nodeAead.open>) => {
      const out = nodeAead.open(...a);
      if (a[1] === kek.key) unwrapped.push(out);
      else dataKeys.push(a[1]);
      return out;
    },
  };
  const env = sealEnvelope(text("secret"), { cipher: "aes-256-gcm", kek, aadFields, attributes, provider: recording });
  t.equal(new TextDecoder().decode(openEnvelope(env, { resolveKek, attributes, provider: recording })), "secret");
  t.equal(dataKeys.length, 2, "one data key sealed, one opened");
  for (const k of dataKeys) t.throws(() => k.exposeBytes(), { message: "secret key was destroyed" });
  t.equal(unwrapped.length, 1);
  t.ok(unwrapped[0]!.length === 32 && unwrapped[0]!.every((b) => b === 0), "the unwrapped key bytes are zeroed");
});
