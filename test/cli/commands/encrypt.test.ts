/**
 * `swarm-policy encrypt PATH... --keyring DIR --attrs JSON IN OUT`: policy
 * requirements applied (cipher, bound attributes, TEE flag) or refused with
 * exit 1 and no output file (missing AAD, over-age KEK, no attestation); a
 * test attestation provider module; the progress bar only on a terminal.
 */
import t from "tap";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { run } from "../run.js";
import { Keyring, collectBytes, inspectStream, openStream } from "../../../src/index.js";

export const POLICY = `package t
encryption default {
  require key_age within 365d
}
encryption "phi" {
  when data.classification == "phi"
  require key_age within 90d
  require tee
  require aad ["tenant_id", "record_id"]
}
encryption "confidential" {
  when data.classification == "confidential"
  require aad ["tenant_id"]
}
encryption "siv" {
  when data.classification == "weights"
  require cipher "aes-256-gcm-siv"
}
`;
export const ATTESTING_PROVIDER = 'export default { name: "test-tee", attest: () => ({ attested: true, provider: "test-tee", detail: "test measurement" }) };\n';
const DAY = 86_400_000;

const FIXTURE = { "p.policy": POLICY, "tee.mjs": ATTESTING_PROVIDER, out: {} };

async function setup(cwd: string, keyringAgeDays = 0) {
  const plain = Uint8Array.from(randomBytes(200_000));
  writeFileSync(path.join(cwd, "in.bin"), plain);
  const ring = await Keyring.create(path.join(cwd, "ring"), { clock: () => Date.now() - keyringAgeDays * DAY });
  return { cwd, plain, ring };
}

const conf = JSON.stringify({ classification: "confidential", tenant_id: "acme" });

t.test("encrypts as required; decrypt gives the input back", async (t) => {
  const { cwd, plain, ring } = await setup(t.testdir(FIXTURE));
  const r = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "in.bin", "out/a.spev"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'encrypted in.bin -> out/a.spev: aes-256-gcm, KEK "kek" version 1, bound tenant_id\n');
  t.equal(r.stderr, "", "no progress bar off a terminal");
  const sealed = readFileSync(path.join(cwd, "out/a.spev"));
  t.match(await inspectStream([sealed]), { cipher: "aes-256-gcm", teeRequired: false, kekId: "kek", aad: [["tenant_id", "acme"]] });
  t.same(await collectBytes(openStream([sealed], { resolveKek: ring.resolveKek })), plain);

  const json = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", '{"classification":"weights"}', "in.bin", "out/w.spev", "-f", "json"], { cwd });
  t.equal(json.code, 0, json.stderr);
  t.match(JSON.parse(json.stdout), { cipher: "aes-256-gcm-siv", kek: { id: "kek", version: 1 }, aad: [], tee: false, rules: ["t/siv", "t/default"], bytes_in: 200_000 });
  t.equal(JSON.parse(json.stdout).bytes_out, statSync(path.join(cwd, "out/w.spev")).size);

  const back = await run(["decrypt", "--keyring", "ring", "out/w.spev", "out/w.bin"], { cwd });
  t.equal(back.code, 0, back.stderr);
  t.ok(Buffer.from(plain).equals(readFileSync(path.join(cwd, "out/w.bin"))));
  t.equal(statSync(path.join(cwd, "out/w.bin")).mode & 0o777, 0o600, "plaintext output is private");
});

t.test("refusals: exit 1, a clear line, no output file", async (t) => {
  const phi = { classification: "phi", tenant_id: "acme", record_id: "r-9" };
  const cases: Array<{ what: string; attrs: object; age?: number; extra?: string[]; message: RegExp }> = [
    {
      what: "phi without record_id",
      attrs: { classification: "phi", tenant_id: "acme" },
      extra: ["--attestation", "tee.mjs"],
      message: /^swarm-policy: refused: t\/phi, t\/default require AAD fields tenant_id, record_id; missing from the attributes: record_id\n$/,
    },
    {
      what: "over-age KEK",
      attrs: phi,
      age: 91,
      extra: ["--attestation", "tee.mjs"],
      message: /^swarm-policy: refused: primary KEK "kek" version 1 is 91d\S* old; t\/phi, t\/default require key_age within 90d: rotate it/,
    },
    {
      what: "require tee with the default provider",
      attrs: phi,
      message: /refused: t\/phi, t\/default require a TEE, and this environment is not attested \(provider "none": no attestation provider is configured\)/,
    },
    { what: "an AAD value that is an object", attrs: { classification: "confidential", tenant_id: { a: 1 } }, message: /refused: AAD field "tenant_id" must be a string/ },
  ];
  for (const c of cases) {
    const { cwd } = await setup(t.testdir(FIXTURE), c.age ?? 0);
    const r = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", JSON.stringify(c.attrs), ...(c.extra ?? []), "in.bin", "out/x.spev"], { cwd });
    t.equal(r.code, 1, c.what);
    t.match(r.stderr, c.message, c.what);
    t.same(readdirSync(path.join(cwd, "out")), [], `${c.what}: nothing written`);
  }
});

t.test("require tee: a test provider attests; the flag then guards decrypt", async (t) => {
  const { cwd, plain } = await setup(t.testdir(FIXTURE));
  const attrs = JSON.stringify({ classification: "phi", tenant_id: "acme", record_id: 7 });
  const r = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", attrs, "--attestation", "tee.mjs", "in.bin", "out/p.spev"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /bound tenant_id, record_id, TEE required to decrypt/);
  const refused = await run(["decrypt", "--keyring", "ring", "out/p.spev", "out/p.bin"], { cwd });
  t.equal(refused.code, 1);
  t.match(refused.stderr, /requires a TEE to decrypt and this environment is not attested/);
  t.same(readdirSync(path.join(cwd, "out")), ["p.spev"], "no plaintext left behind");
  const ok = await run(["decrypt", "--keyring", "ring", "--attestation", "tee.mjs", "out/p.spev", "out/p.bin", "-f", "json"], { cwd });
  t.equal(ok.code, 0, ok.stderr);
  t.match(JSON.parse(ok.stdout), { format: 2, bytes: 200_000, tee: true, aad: { record_id: 7, tenant_id: "acme" } });
  t.ok(Buffer.from(plain).equals(readFileSync(path.join(cwd, "out/p.bin"))));
});

t.test("bad usage and unreadable input: exit 2, nothing written", async (t) => {
  const { cwd } = await setup(t.testdir(FIXTURE));
  writeFileSync(path.join(cwd, "notprovider.mjs"), "export const x = 1;\n");
  const cases: Array<[string[], RegExp]> = [
    [["encrypt", "--keyring", "ring", "--attrs", conf, "in.bin", "out/x"], /encrypt needs PATH\.\.\. IN OUT/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", "{nope", "in.bin", "out/x"], /--attrs is not valid JSON/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", "[1]", "in.bin", "out/x"], /--attrs must be a JSON object/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "missing.bin", "out/x"], /cannot read missing\.bin: no such file or directory/],
    [["encrypt", "p.policy", "--keyring", "nowhere", "--attrs", conf, "in.bin", "out/x"], /keyring directory .*nowhere does not exist/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "--attestation", "notprovider.mjs", "in.bin", "out/x"], /does not export an attestation provider/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "--chunk-size", "0", "in.bin", "out/x"], /chunk size must be an integer from 1/],
    [["encrypt", "nope.policy", "--keyring", "ring", "--attrs", conf, "in.bin", "out/x"], /cannot read nope\.policy/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, args.join(" "));
    t.match(r.stderr, message);
    t.same(readdirSync(path.join(cwd, "out")), [], "nothing written");
  }
  writeFileSync(path.join(cwd, "bad.policy"), 'encryption "x" {\n  when data.a >\n}\n');
  const broken = await run(["encrypt", "bad.policy", "--keyring", "ring", "--attrs", conf, "in.bin", "out/x"], { cwd });
  t.equal(broken.code, 1);
  t.match(broken.stderr, /the policies have errors: nothing was encrypted/);
});

t.test("progress bar on a terminal only, and standard input", async (t) => {
  const { cwd, plain, ring } = await setup(t.testdir(FIXTURE));
  const tty = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "in.bin", "out/a.spev"], { cwd, stderrIsTTY: true });
  t.equal(tty.code, 0);
  t.match(tty.stderr, /\rencrypt \[#+\] 100% 0\.2\/0\.2 MiB\n$/);
  const stdin = await run(["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "-", "out/s.spev"], { cwd, stdin: "from stdin", stderrIsTTY: true });
  t.equal(stdin.code, 0, stdin.stderr);
  t.equal(stdin.stderr, "", "no bar when the size is unknown");
  const sealed = readFileSync(path.join(cwd, "out/s.spev"));
  t.equal(Buffer.from(await collectBytes(openStream([sealed], { resolveKek: ring.resolveKek }))).toString(), "from stdin");
  t.ok(plain.length > 0);
});
