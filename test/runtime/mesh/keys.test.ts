/**
 * WireGuard keys: clamped like `wg genkey`'s, public keys equal to what the
 * real `wg pubkey` prints for the same private key (ours, wg's own, and
 * unclamped random bytes), RFC 7748's vector, and no secret in any printed form.
 * The comparisons with the real tool need `wg`; without it they are skipped
 * with the reason printed.
 */
import t from "tap";
import { execFileSync } from "node:child_process";
import { inspect } from "node:util";
import { clampPrivateKey, generateKeyPair, parsePrivateKey, privateKeyText, publicKeyOf } from "../../../src/runtime/mesh/keys.js";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";
import { isWireGuardKey } from "../../../src/evaluator/mesh.js";
import { prng } from "../../support/prng.js";

function hasWg(): string | false {
  try {
    execFileSync("wg", ["--version"], { stdio: "pipe" });
    return false;
  } catch {
    return "the `wg` tool (Debian: wireguard-tools) is not installed";
  }
}
const noWg = hasWg();
if (noWg) t.comment(`skipping the comparisons with wg: ${noWg}`);

const wgPubkey = (priv: string): string => execFileSync("wg", ["pubkey"], { input: `${priv}\n`, encoding: "utf8" }).trim();
const clamped = (b: Uint8Array) => (b[0]! & 7) === 0 && (b[31]! & 0x80) === 0 && (b[31]! & 0x40) === 0x40;

t.test("RFC 7748 section 6.1: Alice's key pair", async (t) => {
  const priv = SecretKey.from(Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex"));
  t.equal(Buffer.from(publicKeyOf(priv), "base64").toString("hex"), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
});

t.test("generated keys are clamped, well-formed and distinct", async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const { privateKey, publicKey } = generateKeyPair();
    const text = privateKeyText(privateKey);
    t.ok(isWireGuardKey(text) && isWireGuardKey(publicKey), "both halves are 32 bytes of base64");
    if (!clamped(privateKey.exposeBytes())) t.fail(`key ${i} is not clamped`);
    seen.add(text);
  }
  t.equal(seen.size, 200);
});

t.test("clampPrivateKey sets exactly the three bit rules", async (t) => {
  t.same([...clampPrivateKey(new Uint8Array(32).fill(0xff))].filter((_, i) => i === 0 || i === 31), [0xf8, 0x7f]);
  t.same([...clampPrivateKey(new Uint8Array(32))].filter((_, i) => i === 0 || i === 31), [0x00, 0x40]);
});

t.test("our public key is the one `wg pubkey` prints, for many private keys", { skip: noWg }, async (t) => {
  const rand = prng(20260105);
  const cases: { name: string; priv: string }[] = [];
  for (let i = 0; i < 20; i++) cases.push({ name: `ours #${i}`, priv: privateKeyText(generateKeyPair().privateKey) });
  for (let i = 0; i < 20; i++) cases.push({ name: `wg genkey #${i}`, priv: execFileSync("wg", ["genkey"], { encoding: "utf8" }).trim() });
  // Unclamped bytes: both sides clamp before multiplying, so the answers must still agree.
  for (let i = 0; i < 20; i++) {
    const b = Buffer.alloc(32);
    for (let k = 0; k < 32; k++) b[k] = Math.floor(rand() * 256);
    b[0]! |= 7;
    b[31]! |= 0x80;
    cases.push({ name: `unclamped #${i}`, priv: b.toString("base64") });
  }
  cases.push({ name: "all zero", priv: Buffer.alloc(32).toString("base64") }, { name: "all ones", priv: Buffer.alloc(32, 0xff).toString("base64") });
  for (const c of cases) t.equal(publicKeyOf(parsePrivateKey(c.priv)), wgPubkey(c.priv), c.name);
});

t.test("`wg genkey` clamps as we do", { skip: noWg }, async (t) => {
  for (let i = 0; i < 20; i++) {
    const bytes = Buffer.from(execFileSync("wg", ["genkey"], { encoding: "utf8" }).trim(), "base64");
    t.ok(clamped(bytes), `wg genkey #${i} is clamped`);
  }
});

t.test("private keys never show up in printed forms or errors", async (t) => {
  const pair = generateKeyPair();
  const text = privateKeyText(pair.privateKey);
  for (const shown of [JSON.stringify(pair), inspect(pair), `${pair.privateKey}`, String(pair.privateKey)]) {
    t.notOk(shown.includes(text), "redacted");
    t.notOk(shown.includes(Buffer.from(text, "base64").toString("hex")), "no hex either");
  }
  t.equal(publicKeyOf(parsePrivateKey(`  ${text}\n`)), pair.publicKey, "a key file's whitespace is fine");
  for (const bad of ["", "short", text.slice(0, -1), text + "A", text.replace(/.$/, "B")]) {
    t.throws(() => parsePrivateKey(bad), { message: "not a WireGuard private key (32 bytes of base64)" });
  }
  try {
    parsePrivateKey(`${text.slice(0, 43)}!`);
  } catch (err) {
    t.notOk((err as Error).message.includes(text.slice(0, 20)), "the error does not quote the key");
  }
  t.throws(() => publicKeyOf(SecretKey.from(new Uint8Array(16))), RangeError);
});

t.test("privateKeyText wipes the copy it encodes from (small Buffers come from Node's shared pool)", async (t) => {
  const raw = new Uint8Array(32);
  for (let i = 0; i < 32; i++) raw[i] = 0x5a ^ (i * 29);
  const key = SecretKey.from(raw);
  const secret = Buffer.alloc(32);
  secret.set(raw);
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = Buffer.from("probe"); // a slice of the current pool
    const text = privateKeyText(key);
    const after = Buffer.from("probe");
    if (before.buffer !== after.buffer) continue; // the pool was replaced meanwhile: try again
    t.equal(Buffer.from(after.buffer).indexOf(secret), -1, "the key's bytes are not left in the pool");
    const decoded = Buffer.alloc(32);
    decoded.write(text, "base64");
    t.equal(decoded.equals(secret), true, "the text is the key");
    return;
  }
  t.fail("the Buffer pool was replaced on every attempt");
});
