/**
 * `swarm-policy decrypt --keyring DIR IN OUT`: the output appears only when
 * complete and authentic. Flipping any single byte of an encrypted file
 * (header, wrapped key, nonce prefix, bound values, ciphertext, tags),
 * truncating it, or reordering, dropping or appending chunks fails and
 * leaves no output file (and an existing OUT untouched). Retired KEKs,
 * attribute mismatches, version-1 envelopes and standard input.
 */
import t from "tap";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { run } from "../run.js";
import { Keyring, SecretKey, collectBytes, sealEnvelope, sealStream } from "../../../src/index.js";
import { INTERRUPTS } from "../../support/interrupts.js";

const POLICY = 'package t\nencryption "any" {\n  require aad ["tenant_id"]\n}\n';
const ATTRS = JSON.stringify({ tenant_id: "acme" });

async function encrypted(cwd: string, plain: Uint8Array, chunkSize = 16): Promise<Buffer> {
  writeFileSync(path.join(cwd, "in.bin"), plain);
  const r = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", ATTRS, "--chunk-size", String(chunkSize), "in.bin", "enc.spev"], { cwd });
  if (r.code !== 0) throw new Error(r.stderr);
  return readFileSync(path.join(cwd, "enc.spev"));
}

async function setup(cwd: string) {
  const ring = await Keyring.create(path.join(cwd, "ring"));
  return ring;
}

const FIXTURE = { "p.policy": POLICY };
const listing = (cwd: string) => readdirSync(cwd).sort();

t.test("every single-byte flip fails and leaves nothing behind", async (t) => {
  const cwd = t.testdir(FIXTURE);
  await setup(cwd);
  const plain = Uint8Array.from(randomBytes(40)); // chunks of 16, 16 and a final 8
  const good = await encrypted(cwd, plain);
  const ok = await run(["decrypt", "--keyring", "ring", "enc.spev", "out.bin"], { cwd });
  t.equal(ok.code, 0, "control: the untouched file decrypts");
  t.ok(readFileSync(path.join(cwd, "out.bin")).equals(plain));
  writeFileSync(path.join(cwd, "out.bin"), "previous content");
  const before = listing(cwd);
  const codes = new Map<number, number>();
  for (let i = 0; i < good.length; i++) {
    const bad = Buffer.from(good);
    bad[i]! ^= 0x01;
    writeFileSync(path.join(cwd, "bad.spev"), bad);
    const r = await run(["decrypt", "--keyring", "ring", "bad.spev", "out.bin"], { cwd });
    codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
    if (r.code === 0) t.fail(`byte ${i} flipped still decrypts`);
    // Past the 4 magic bytes every flip is tampering (exit 1), header bytes included; with the
    // magic gone the file is not an envelope at all (exit 2, unreadable input).
    else if (r.code !== (i < 4 ? 2 : 1)) t.fail(`byte ${i} flipped: exit ${r.code}: ${r.stderr}`);
    if (!/^swarm-policy: .+\n$/.test(r.stderr)) t.fail(`byte ${i}: not one clear line: ${JSON.stringify(r.stderr)}`);
  }
  t.notOk(codes.has(0), `all ${good.length} flips refused (exit codes ${JSON.stringify([...codes])})`);
  t.same(listing(cwd), [...before, "bad.spev"].sort(), "no output or temporary file appeared");
  t.equal(readFileSync(path.join(cwd, "out.bin"), "utf8"), "previous content", "an existing OUT is untouched");
});

t.test("a header that no longer parses is not authentic (exit 1); input without the magic is not an envelope (exit 2)", async (t) => {
  const cwd = t.testdir(FIXTURE);
  await setup(cwd);
  const good = await encrypted(cwd, Uint8Array.from(randomBytes(40)));
  const set = (at: number, value: number) => {
    const bad = Buffer.from(good);
    bad[at] = value;
    return bad;
  };
  const cases: Array<[string, Buffer, RegExp]> = [
    ["an unknown version", set(4, 9), /envelope version 9 is not supported/],
    ["an unknown cipher", set(5, 0xee), /unknown cipher id/],
    ["unknown header flags", set(6, 0x80), /unknown header flags/],
    ["an empty KEK id", set(7, 0), /empty KEK id/],
    ["cut right after the magic", good.subarray(0, 4), /ends inside its header/],
  ];
  for (const [what, bytes, message] of cases) {
    writeFileSync(path.join(cwd, "bad.spev"), bytes);
    const r = await run(["decrypt", "--keyring", "ring", "bad.spev", "out.bin"], { cwd });
    t.equal(r.code, 1, `${what}: exit 1`);
    t.match(r.stderr, /^swarm-policy: (not authentic \(malformed header\): )?.+\n$/, what);
    t.match(r.stderr, message, what);
    t.notOk(readdirSync(cwd).some((f) => f.includes("out.bin")), `${what}: no output`);
  }
  writeFileSync(path.join(cwd, "bad.spev"), set(5, 0xee));
  const unknownCipher = await run(["decrypt", "--keyring", "ring", "bad.spev", "out.bin"], { cwd });
  t.equal(unknownCipher.stderr, "swarm-policy: not authentic (malformed header): unknown cipher id\n");

  const v1 = sealEnvelope(new Uint8Array(8), { cipher: "aes-256-gcm", kek: (await Keyring.open(path.join(cwd, "ring"))).primary() });
  v1[5] = 0xee;
  writeFileSync(path.join(cwd, "v1.env"), v1);
  const v1Bad = await run(["decrypt", "--keyring", "ring", "v1.env", "out.bin"], { cwd });
  t.equal(v1Bad.code, 1, "a version-1 envelope with an unknown cipher: exit 1");
  t.equal(v1Bad.stderr, "swarm-policy: not authentic (malformed header): unknown cipher id\n");

  const plain = await run(["decrypt", "--keyring", "ring", "in.bin", "out.bin"], { cwd });
  t.equal(plain.code, 2, "a plaintext file is not an envelope: unreadable input");
  t.equal(plain.stderr, "swarm-policy: not a swarm-policy envelope\n");
  const v1Stdin = await run(["decrypt", "--keyring", "ring", "-", "out.bin"], { cwd, stdin: "SPEV\u0001 and the rest of a version-1 envelope" });
  t.equal(v1Stdin.code, 2, "a version-1 envelope on standard input is a usage error");
  t.match(v1Stdin.stderr, /cannot be read from standard input/);
});

t.test("truncated, reordered and extended files fail with no output", async (t) => {
  const cwd = t.testdir(FIXTURE);
  await setup(cwd);
  const good = await encrypted(cwd, Uint8Array.from(randomBytes(4 * 16 + 5)));
  const headerLen = good.length - (4 * 32 + 5 + 16);
  const header = good.subarray(0, headerLen);
  const chunk = (i: number) => good.subarray(headerLen + i * 32, headerLen + (i + 1) * 32);
  const final = good.subarray(headerLen + 4 * 32);
  const cases: Record<string, Buffer> = {
    "cut at a chunk boundary": Buffer.concat([header, chunk(0), chunk(1), chunk(2), chunk(3)]),
    "cut inside a chunk": good.subarray(0, headerLen + 40),
    "cut inside the header": good.subarray(0, 30),
    "empty file": Buffer.alloc(0),
    "chunks 1 and 2 swapped": Buffer.concat([header, chunk(0), chunk(2), chunk(1), chunk(3), final]),
    "chunk 2 dropped": Buffer.concat([header, chunk(0), chunk(1), chunk(3), final]),
    "a chunk appended after the final one": Buffer.concat([good, chunk(0)]),
    "one byte appended": Buffer.concat([good, Buffer.of(0)]),
  };
  for (const [what, bytes] of Object.entries(cases)) {
    writeFileSync(path.join(cwd, "bad.spev"), bytes);
    const r = await run(["decrypt", "--keyring", "ring", "bad.spev", "out.bin"], { cwd });
    t.not(r.code, 0, what);
    t.match(r.stderr, /^swarm-policy: /, what);
    t.notOk(readdirSync(cwd).some((f) => f.startsWith("out.bin") || f.startsWith(".out.bin")), `${what}: no output`);
  }
  writeFileSync(path.join(cwd, "bad.spev"), cases["cut at a chunk boundary"]!);
  const cut = await run(["decrypt", "--keyring", "ring", "bad.spev", "out.bin"], { cwd });
  t.equal(cut.code, 1);
  t.equal(cut.stderr, "swarm-policy: chunk 3 is not authentic: the data was modified, truncated, reordered or extended\n");
});

t.test("large files: failure late in the stream still leaves nothing", async (t) => {
  const cwd = t.testdir(FIXTURE);
  await setup(cwd);
  const good = await encrypted(cwd, Uint8Array.from(randomBytes(3 * 1024 * 1024)), 65536);
  const bad = Buffer.from(good);
  bad[bad.length - 100]! ^= 0xff; // in the last chunk: everything before it was already written to the temp file
  writeFileSync(path.join(cwd, "bad.spev"), bad);
  const r = await run(["decrypt", "--keyring", "ring", "bad.spev", "out.bin"], { cwd, stderrIsTTY: true });
  t.equal(r.code, 1);
  t.match(r.stderr, /chunk 47 is not authentic/);
  t.match(r.stderr, /\rdecrypt \[/, "the progress bar ran");
  t.notOk(readdirSync(cwd).some((f) => f.includes("out.bin")), "neither the output nor its temporary file remains");
});

t.test("retired KEK, attribute checks, standard input, version-1 envelopes", async (t) => {
  const cwd = t.testdir(FIXTURE);
  const ring = await setup(cwd);
  const plain = Uint8Array.from(randomBytes(1000));
  await encrypted(cwd, plain);
  const mismatch = await run(["decrypt", "--keyring", "ring", "--attrs", '{"tenant_id":"other"}', "enc.spev", "out.bin"], { cwd });
  t.equal(mismatch.code, 1);
  t.match(mismatch.stderr, /bound to a different "tenant_id"/);
  const matching = await run(["decrypt", "--keyring", "ring", "--attrs", ATTRS, "-", "out.bin"], { cwd, stdin: "not an envelope" });
  t.equal(matching.code, 2, "standard input that is not an envelope");
  t.match(matching.stderr, /not a swarm-policy envelope/);

  const v1 = sealEnvelope(plain, { cipher: "aes-256-gcm", kek: ring.primary(), aadFields: ["tenant_id"], attributes: { tenant_id: "acme" } });
  writeFileSync(path.join(cwd, "v1.env"), v1);
  const noAttrs = await run(["decrypt", "--keyring", "ring", "v1.env", "v1.bin"], { cwd });
  t.equal(noAttrs.code, 1, "a version-1 envelope needs its bound attributes");
  t.match(noAttrs.stderr, /required AAD field "tenant_id" is missing/);
  const v1ok = await run(["decrypt", "--keyring", "ring", "--attrs", ATTRS, "v1.env", "v1.bin", "-f", "json"], { cwd });
  t.equal(v1ok.code, 0, v1ok.stderr);
  t.match(JSON.parse(v1ok.stdout), { format: 1, bytes: 1000 });
  t.ok(readFileSync(path.join(cwd, "v1.bin")).equals(plain));

  await (await Keyring.open(path.join(cwd, "ring"))).rotate();
  await (await Keyring.open(path.join(cwd, "ring"))).retire("kek", 1);
  const retired = await run(["decrypt", "--keyring", "ring", "enc.spev", "out.bin"], { cwd });
  t.equal(retired.code, 1);
  t.match(retired.stderr, /^swarm-policy: KEK "kek" version 1 was retired on \S+ and no longer decrypts\n$/);
  t.notOk(readdirSync(cwd).includes("out.bin"));
});

t.test("--attrs naming an attribute the file does not bind refuses (streams and version-1 envelopes), nothing written", async (t) => {
  const cwd = t.testdir({ ...FIXTURE, "none.policy": 'package n\nencryption "none" {\n  require cipher "aes-256-gcm"\n}\n' });
  const ring = await setup(cwd);
  const plain = Uint8Array.from(randomBytes(100));
  await encrypted(cwd, plain); // binds tenant_id
  writeFileSync(path.join(cwd, "in.bin"), plain);
  const bare = await run(["encrypt", "none.policy", "--keyring", "ring", "--attrs", "{}", "in.bin", "bare.spev"], { cwd });
  t.equal(bare.code, 0, bare.stderr);
  writeFileSync(path.join(cwd, "v1.env"), sealEnvelope(plain, { cipher: "aes-256-gcm", kek: ring.primary(), aadFields: ["tenant_id"], attributes: { tenant_id: "acme" } }));
  writeFileSync(path.join(cwd, "v1-bare.env"), sealEnvelope(plain, { cipher: "aes-256-gcm", kek: ring.primary() }));
  writeFileSync(path.join(cwd, "out.bin"), "previous content");
  const before = listing(cwd);
  const extra = JSON.stringify({ tenant_id: "acme", record_id: "r-1" });
  const cases: Array<[string, string, string, RegExp]> = [
    ["a stream binding tenant_id, expected record_id too", "enc.spev", extra, /does not bind "record_id", so it cannot be checked \(it binds only tenant_id\)/],
    ["a stream binding nothing", "bare.spev", JSON.stringify({ record_id: "r-1" }), /does not bind "record_id", so it cannot be checked \(it binds no attributes\)/],
    ["a version-1 envelope binding tenant_id, expected record_id too", "v1.env", extra, /does not bind "record_id"/],
    ["a version-1 envelope binding nothing", "v1-bare.env", JSON.stringify({ record_id: "r-1" }), /binds no attributes/],
    ["a stream bound to another tenant", "enc.spev", JSON.stringify({ tenant_id: "other" }), /bound to a different "tenant_id"/],
    ["a version-1 envelope bound to another tenant", "v1.env", JSON.stringify({ tenant_id: "other" }), /not authentic/],
  ];
  for (const [what, file, attrs, message] of cases) {
    const r = await run(["decrypt", "--keyring", "ring", "--attrs", attrs, file, "out.bin"], { cwd });
    t.equal(r.code, 1, `${what}: exit 1`);
    t.match(r.stderr, message, what);
  }
  t.same(listing(cwd), before, "no output or temporary file appeared");
  t.equal(readFileSync(path.join(cwd, "out.bin"), "utf8"), "previous content", "an existing OUT is untouched");
  for (const [file, attrs] of [["enc.spev", ATTRS], ["bare.spev", "{}"], ["v1.env", ATTRS], ["v1-bare.env", "{}"]] as const) {
    const ok = await run(["decrypt", "--keyring", "ring", "--attrs", attrs, file, "out.bin"], { cwd });
    t.equal(ok.code, 0, `control: ${file} with exactly its bound attributes: ${ok.stderr}`);
  }
});

t.test("interrupted (SIGINT, SIGTERM, SIGHUP) while writing: the half-written plaintext is removed, exit 128+n", async (t) => {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
  for (const [signal, want] of INTERRUPTS) {
    const cwd = t.testdir(FIXTURE);
    await setup(cwd);
    const enc = await encrypted(cwd, Uint8Array.from(randomBytes(200)));
    const before = listing(cwd);
    const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "src/cli/bin.ts"), "decrypt", "--keyring", "ring", "-", "out.bin"], {
      cwd,
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.stdin.write(enc.subarray(0, 120)); // the header and some chunks; the rest never comes
    // Wait (a condition, not a time) until the temporary output file exists, then interrupt.
    let temp: string | undefined;
    while ((temp = listing(cwd).find((n) => n.startsWith(".out.bin.") && n.endsWith(".tmp"))) === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill(signal);
    t.equal(await exited, want, `${signal}: exit ${want} ${stderr}`);
    t.same(listing(cwd), before, `${signal}: ${temp} removed, no out.bin`);
  }
});

t.test("a crafted header's KEK id cannot put escape sequences on the terminal (decrypt, rewrap)", async (t) => {
  const cwd = t.testdir(FIXTURE);
  await setup(cwd);
  const kekId = "evil\u001b]0;pwned\u0007\u001b[2J\r\u009b1A\u202e";
  const crafted = await collectBytes(sealStream([new Uint8Array(10)], { cipher: "aes-256-gcm", kek: { id: kekId, version: 1, key: SecretKey.generate() } }));
  writeFileSync(path.join(cwd, "crafted.spev"), crafted);
  const d = await run(["decrypt", "--keyring", "ring", "crafted.spev", "out.bin"], { cwd });
  t.equal(d.code, 1);
  t.equal(d.stderr, `swarm-policy: KEK "evil\\u001b]0;pwned\\u0007\\u001b[2J\\u000d\\u009b1A\\u202e" version 1 is not in keyring ${path.join(cwd, "ring")}\n`);
  const r = await run(["rewrap", "--keyring", "ring", "crafted.spev"], { cwd });
  t.equal(r.code, 1, "its KEK is not in the keyring: a refusal, as for decrypt");
  t.notOk(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(r.stderr), JSON.stringify(r.stderr));
});
