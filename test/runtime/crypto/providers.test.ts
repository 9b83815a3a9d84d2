/**
 * The two AES-256-GCM providers agree (what one seals the other opens),
 * refuse tampering and truncated tags alike, and report which runs when.
 */
import t from "tap";
import { randomBytes } from "node:crypto";
import { CryptoError, NONCE_BYTES, randomNonce } from "../../../src/runtime/crypto/aead.js";
import { nobleAead } from "../../../src/runtime/crypto/noble-aead.js";
import { nodeAead } from "../../../src/runtime/crypto/node-aead.js";
import { providerFor } from "../../../src/runtime/crypto/providers.js";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";

const random = (n: number) => Uint8Array.from(randomBytes(n));
// Byte equality without tap's deep diff, which is very slow on large arrays.
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
const LENGTHS = [0, 1, 15, 16, 17, 255, 4096, 65_537];

t.test("cross-check: node seals, noble opens, and the reverse", async (t) => {
  for (const len of LENGTHS) {
    for (const aadLen of [0, 1, 33]) {
      const key = SecretKey.generate();
      const nonce = randomNonce();
      const msg = random(len), aad = random(aadLen);
      const byNode = nodeAead.seal("aes-256-gcm", key, nonce, msg, aad);
      const byNoble = nobleAead.seal("aes-256-gcm", key, nonce, msg, aad);
      t.ok(sameBytes(byNode, byNoble), `same ciphertext for ${len}/${aadLen}`);
      t.ok(sameBytes(nobleAead.open("aes-256-gcm", key, nonce, byNode, aad), msg), `noble opens node ${len}/${aadLen}`);
      t.ok(sameBytes(nodeAead.open("aes-256-gcm", key, nonce, byNoble, aad), msg), `node opens noble ${len}/${aadLen}`);
      t.equal(byNode.length, len + 16, "ciphertext plus a 16-byte tag");
    }
  }
});

t.test("both providers refuse a wrong AAD, a flipped bit, a truncated tag and a wrong key", async (t) => {
  const key = SecretKey.generate();
  const nonce = randomNonce();
  const msg = random(40), aad = random(8);
  for (const p of [nodeAead, nobleAead]) {
    const sealed = p.seal("aes-256-gcm", key, nonce, msg, aad);
    const fail = (what: string, fn: () => unknown, code = "auth-failed") =>
      t.throws(fn, { name: "CryptoError", code }, `${p.name}: ${what}`);
    fail("wrong aad", () => p.open("aes-256-gcm", key, nonce, sealed, random(8)));
    fail("missing aad", () => p.open("aes-256-gcm", key, nonce, sealed));
    fail("wrong key", () => p.open("aes-256-gcm", SecretKey.generate(), nonce, sealed, aad));
    fail("wrong nonce", () => p.open("aes-256-gcm", key, randomNonce(), sealed, aad));
    fail("tag cut to 12 bytes", () => p.open("aes-256-gcm", key, nonce, sealed.subarray(0, sealed.length - 4), aad));
    fail("shorter than a tag", () => p.open("aes-256-gcm", key, nonce, sealed.subarray(0, 15), aad), "bad-input");
    for (const i of [0, 20, sealed.length - 16, sealed.length - 1]) {
      const bad = Uint8Array.from(sealed);
      bad[i]! ^= 0x01;
      fail(`bit flipped at ${i}`, () => p.open("aes-256-gcm", key, nonce, bad, aad));
    }
  }
});

t.test("keys that are not 32 bytes are refused without echoing them", async (t) => {
  const short = SecretKey.from(Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i));
  for (const p of [nodeAead, nobleAead]) {
    let err: unknown;
    try {
      p.seal("aes-256-gcm", short, randomNonce(), new Uint8Array(1));
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof CryptoError && err.code === "bad-key", `${p.name}: bad-key`);
    t.notMatch(String((err as Error).message), /a0a1|160,\s*161/, "message holds no key bytes");
  }
});

t.test("provider selection: node for GCM, noble for GCM-SIV; node refuses SIV itself", async (t) => {
  t.equal(providerFor("aes-256-gcm").name, "node");
  t.equal(providerFor("aes-256-gcm-siv").name, "noble");
  t.throws(() => nodeAead.seal("aes-256-gcm-siv", SecretKey.generate(), randomNonce(), new Uint8Array(1)), { code: "unsupported" });
  const key = SecretKey.generate(), nonce = randomNonce(), msg = random(100);
  const siv = nobleAead.seal("aes-256-gcm-siv", key, nonce, msg);
  t.notSame(siv, nobleAead.seal("aes-256-gcm", key, nonce, msg), "SIV and GCM differ");
  t.same(nobleAead.open("aes-256-gcm-siv", key, nonce, siv), msg);
});

t.test("randomNonce: 12 fresh bytes each call", async (t) => {
  const a = randomNonce(), b = randomNonce();
  t.equal(a.length, NONCE_BYTES);
  t.notSame(a, b);
});

t.test("randomNonce and SecretKey.generate draw from a pool: never a repeat across refills", async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 3000; i++) seen.add(Buffer.from(randomNonce()).toString("hex")); // 36 KB: several 4 KiB refills
  t.equal(seen.size, 3000);
  const keys = new Set(Array.from({ length: 500 }, () => Buffer.from(SecretKey.generate().exposeBytes()).toString("hex")));
  t.equal(keys.size, 500);
  const big = SecretKey.generate(1024).exposeBytes(); // larger requests bypass the pool
  t.ok(new Set(big).size > 200, "a large key is not constant");
});

t.test("seal with a prefix: prefix || ciphertext || tag, identical across providers and sizes", async (t) => {
  const key = SecretKey.generate(), nonce = randomNonce(), prefix = random(37);
  for (const len of [0, 1, 65_535, 65_536, 65_537, 200_000]) {
    const msg = random(len);
    const plain = nodeAead.seal("aes-256-gcm", key, nonce, msg);
    for (const p of [nodeAead, nobleAead]) {
      const withPrefix = p.seal("aes-256-gcm", key, nonce, msg, undefined, prefix);
      t.ok(sameBytes(withPrefix.subarray(0, 37), prefix) && sameBytes(withPrefix.subarray(37), plain), `${p.name} ${len}`);
      t.equal(withPrefix.buffer.byteLength, withPrefix.length, `${p.name} ${len}: the result owns its whole buffer`);
    }
  }
});
