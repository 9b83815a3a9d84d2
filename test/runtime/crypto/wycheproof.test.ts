/**
 * Every 256-bit case of Wycheproof's aes_gcm_test.json and
 * aes_gcm_siv_test.json through both AEAD providers: valid 96-bit-nonce cases
 * open to the message and seal to ct||tag, invalid ones are refused, and any
 * nonce that is not 12 bytes is refused before any decryption is attempted.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CryptoError, type AeadAlgorithm, type AeadProvider } from "../../../src/runtime/crypto/aead.js";
import { nobleAead } from "../../../src/runtime/crypto/noble-aead.js";
import { nodeAead } from "../../../src/runtime/crypto/node-aead.js";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const vectors = path.resolve(repoRoot, "../shared/vectors/wycheproof");

interface Case { tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: string; flags: string[] }
interface Group { keySize: number; ivSize: number; tagSize: number; tests: Case[] }

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};

function cases(file: string): Array<Case & { ivSize: number; tagSize: number }> {
  const doc = JSON.parse(readFileSync(path.join(vectors, file), "utf8")) as { testGroups: Group[] };
  return doc.testGroups
    .filter((g) => g.keySize === 256)
    .flatMap((g) => g.tests.map((c) => ({ ...c, ivSize: g.ivSize, tagSize: g.tagSize })));
}

function runFile(file: string, algorithm: AeadAlgorithm, providers: AeadProvider[], expectedCount: number) {
  t.test(`${file}: every 256-bit case through ${providers.map((p) => p.name).join(" and ")}`, async (t) => {
    const all = cases(file);
    t.equal(all.length, expectedCount, "all 256-bit cases are present");
    let opened = 0, refusedForgeries = 0, refusedNonces = 0;
    for (const c of all) {
      const key = SecretKey.from(hex(c.key));
      const nonce = hex(c.iv), aad = hex(c.aad), msg = hex(c.msg);
      const sealed = concat(hex(c.ct), hex(c.tag));
      t.equal(c.tagSize, 128, `tc ${c.tcId}: 128-bit tag`);
      for (const p of providers) {
        const where = `${p.name} tc ${c.tcId}`;
        if (c.ivSize !== 96) {
          // Our API never accepts these nonces, valid vector or not: refused up front.
          t.throws(() => p.open(algorithm, key, nonce, sealed, aad), { code: "bad-nonce" }, `${where}: open refuses ${c.ivSize}-bit nonce`);
          t.throws(() => p.seal(algorithm, key, nonce, msg, aad), { code: "bad-nonce" }, `${where}: seal refuses ${c.ivSize}-bit nonce`);
          refusedNonces++;
        } else if (c.result === "valid") {
          t.same(Buffer.from(p.open(algorithm, key, nonce, sealed, aad)).toString("hex"), c.msg, `${where}: opens`);
          t.same(Buffer.from(p.seal(algorithm, key, nonce, msg, aad)).toString("hex"), c.ct + c.tag, `${where}: seals`);
          opened++;
        } else {
          let err: unknown;
          try {
            p.open(algorithm, key, nonce, sealed, aad);
          } catch (e) {
            err = e;
          }
          t.ok(err instanceof CryptoError, `${where}: invalid case refused (${c.flags.join(",")})`);
          refusedForgeries++;
        }
      }
    }
    t.ok(opened > 0 && refusedForgeries > 0, `opened ${opened}, refused ${refusedForgeries} forgeries, ${refusedNonces} nonces`);
  });
}

// Counts from the vector files (256-bit groups only), so a filter bug cannot pass silently.
runFile("aes_gcm_test.json", "aes-256-gcm", [nodeAead, nobleAead], 105);
runFile("aes_gcm_siv_test.json", "aes-256-gcm-siv", [nobleAead], 103);

t.test("nonce lengths the format never produces are refused by every provider", async (t) => {
  const key = SecretKey.generate();
  const lengths = [0, 1, 2, 3, 4, 5, 6, 8, 11, 13, 16, 257];
  for (const p of [nodeAead, nobleAead]) {
    for (const alg of p.algorithms) {
      for (const n of lengths) {
        const nonce = new Uint8Array(n);
        t.throws(() => p.seal(alg, key, nonce, new Uint8Array(3)), { code: "bad-nonce" }, `${p.name} ${alg} seal ${n}`);
        t.throws(() => p.open(alg, key, nonce, new Uint8Array(32)), { code: "bad-nonce" }, `${p.name} ${alg} open ${n}`);
      }
    }
  }
});
