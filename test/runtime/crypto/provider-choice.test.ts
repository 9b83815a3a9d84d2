/**
 * Choosing the AEAD provider through the public API (src/index.ts): the
 * provider a caller passes is the one that runs (counted by a spy, so an
 * ignored option fails here), what noble seals node opens and the reverse,
 * a provider lacking the cipher is refused before any wrap is counted, and
 * the import graph is what docs/envelope.md "which provider runs when" says.
 */
import t from "tap";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  EnvelopeError,
  Keyring,
  collectBytes,
  compile,
  encryptByPolicy,
  inspectStream,
  nobleAead,
  nodeAead,
  openEnvelope,
  openStream,
  providerFor,
  rewrapStream,
  sealEnvelope,
  sealStream,
  SecretKey,
  type AeadProvider,
  type Kek,
} from "../../../src/index.js";
import { MemoryKekUsage } from "../../../src/runtime/crypto/kek-usage.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const text = (s: string) => new TextEncoder().encode(s);

/** A provider that counts its calls and delegates to `inner`. */
function spy(inner: AeadProvider) {
  const calls = { seal: 0, open: 0 };
  const provider: AeadProvider = {
    name: `spy-${inner.name}`,
    algorithms: inner.algorithms,
    seal: (...args) => (calls.seal++, inner.seal(...args)),
    open: (...args) => (calls.open++, inner.open(...args)),
  };
  return { provider, calls };
}

const kek = (version = 1): Kek => ({ id: "k", version, key: SecretKey.generate() });

t.test("envelopes: noble seals, node opens; node seals, noble opens; the chosen provider runs", async (t) => {
  const k = kek();
  const resolveKek = () => k.key;
  const attributes = { tenant_id: "acme" };
  for (const [sealer, opener] of [
    [nobleAead, nodeAead],
    [nodeAead, nobleAead],
  ] as const) {
    const s = spy(sealer), o = spy(opener);
    const sealed = sealEnvelope(text("payload"), { cipher: "aes-256-gcm", kek: k, aadFields: ["tenant_id"], attributes, provider: s.provider });
    t.same(s.calls, { seal: 2, open: 0 }, `${sealer.name} wrapped the data key and sealed the payload`);
    t.same(openEnvelope(sealed, { resolveKek, attributes, provider: o.provider }), text("payload"), `${sealer.name} -> ${opener.name}`);
    t.same(o.calls, { seal: 0, open: 2 }, `${opener.name} unwrapped and opened`);
    t.same(openEnvelope(sealed, { resolveKek, attributes }), text("payload"), "and the default provider opens it too");
  }
  t.equal(providerFor("aes-256-gcm"), nodeAead, "the default for AES-256-GCM is node:crypto");
  t.equal(providerFor("aes-256-gcm-siv"), nobleAead, "and for AES-256-GCM-SIV @noble/ciphers");
});

t.test("streams and rewrap: the chosen provider runs for every chunk; either opens the other's", async (t) => {
  const k1 = kek(1), k2 = kek(2);
  const keys = new Map([[1, k1.key], [2, k2.key]]);
  const resolveKek = (_id: string, v: number) => keys.get(v);
  const parts = [text("a".repeat(50)), text("b".repeat(50))];
  const s = spy(nobleAead);
  const sealed = await collectBytes(sealStream(parts, { cipher: "aes-256-gcm", kek: k1, chunkSize: 16, provider: s.provider }));
  t.same(s.calls, { seal: 1 + 7, open: 0 }, "one wrap and 7 chunks of 16 bytes (100 bytes) by noble");
  const o = spy(nodeAead);
  t.equal(Buffer.from(await collectBytes(openStream([sealed], { resolveKek, provider: o.provider }))).toString(), "a".repeat(50) + "b".repeat(50));
  t.same(o.calls, { seal: 0, open: 8 }, "node opened the wrap and every chunk");

  const r = spy(nobleAead);
  const rewrapped = await collectBytes(rewrapStream([sealed], { resolveKek, kek: k2, provider: r.provider }));
  t.same(r.calls, { seal: 1, open: 1 }, "rewrap by noble: one unwrap, one wrap, no chunk touched");
  t.equal((await inspectStream([rewrapped])).kekVersion, 2);
  const back = await collectBytes(openStream([rewrapped], { resolveKek, provider: nodeAead }));
  t.equal(back.length, 100, "node opens what noble re-wrapped");

  const byNode = await collectBytes(sealStream(parts, { cipher: "aes-256-gcm", kek: k1, provider: nodeAead }));
  t.equal(Buffer.from(await collectBytes(openStream([byNode], { resolveKek, provider: nobleAead }))).toString().length, 100, "noble opens node's stream");
});

t.test("encryptByPolicy takes the provider too", async (t) => {
  const engine = compile('package p\nencryption "x" {\n  require cipher "aes-256-gcm"\n  require aad ["tenant_id"]\n}\n');
  const ring = await Keyring.create(path.join(t.testdir({}), "ring"));
  const s = spy(nobleAead);
  const sealed = await collectBytes(encryptByPolicy([text("row")], { tenant_id: "acme" }, { policy: engine, keyring: ring, provider: s.provider }));
  t.ok(s.calls.seal >= 2, "noble wrapped and sealed");
  t.same(await collectBytes(openStream([sealed], { resolveKek: ring.resolveKek, provider: nodeAead })), text("row"));
});

t.test("a provider without the cipher is refused (bad-request) before a wrap is counted, never swapped", async (t) => {
  const k = kek();
  const usage = new MemoryKekUsage();
  const refused = (fn: () => unknown, what: string) => {
    try {
      fn();
    } catch (e) {
      t.ok(e instanceof EnvelopeError && e.code === "bad-request", `${what}: ${(e as Error).message}`);
      t.match((e as Error).message, /AEAD provider "node" does not implement aes-256-gcm-siv/);
      return;
    }
    t.fail(`${what}: not refused`);
  };
  refused(() => sealEnvelope(text("x"), { cipher: "aes-256-gcm-siv", kek: k, usage, provider: nodeAead }), "sealEnvelope");
  await t.rejects(collectBytes(sealStream([text("x")], { cipher: "aes-256-gcm-siv", kek: k, usage, provider: nodeAead })), { code: "bad-request" });
  t.equal(usage.count("k", 1), 0, "no wrap counted");
  const siv = sealEnvelope(text("x"), { cipher: "aes-256-gcm-siv", kek: k, usage });
  refused(() => openEnvelope(siv, { resolveKek: () => k.key, provider: nodeAead }), "openEnvelope (not reported as not-authentic)");
  t.same(openEnvelope(siv, { resolveKek: () => k.key, provider: nobleAead }), text("x"));
});

/** Relative imports of a source file, as .ts paths, and its bare imports. */
function importsOf(file: string): { local: string[]; bare: string[] } {
  const source = readFileSync(file, "utf8");
  const specs = [...source.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]!);
  const local = specs.filter((s) => s.startsWith(".")).map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, ".ts")));
  return { local, bare: specs.filter((s) => !s.startsWith(".")) };
}

function builtinsReached(entry: string): Map<string, Set<string>> {
  const seen = new Set<string>();
  const builtins = new Map<string, Set<string>>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const { local, bare } = importsOf(file);
    for (const b of bare.filter((b) => b.startsWith("node:"))) builtins.set(b, (builtins.get(b) ?? new Set()).add(path.relative(repoRoot, file)));
    local.forEach(visit);
  };
  visit(entry);
  return builtins;
}

t.test("the import graph docs/envelope.md describes", async (t) => {
  const crypto = path.join(repoRoot, "src/runtime/crypto");
  for (const entry of ["envelope.ts", "stream.ts"]) {
    const reached = builtinsReached(path.join(crypto, entry));
    t.same(
      Object.fromEntries([...reached].map(([b, files]) => [b, [...files]])),
      { "node:crypto": ["src/runtime/crypto/node-aead.ts"] },
      `${entry}: the only Node builtin is node:crypto, through providers.ts -> node-aead.ts`,
    );
  }
  t.same([...builtinsReached(path.join(crypto, "noble-aead.ts")).keys()], [], "the noble provider imports no Node builtin");
  const index = builtinsReached(path.join(repoRoot, "src/index.ts"));
  t.ok(index.has("node:fs/promises") && index.has("node:crypto"), "the package entry loads node:fs and node:crypto: not a browser module");
});
