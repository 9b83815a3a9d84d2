/**
 * `swarm-policy encrypt PATH... --keyring DIR --attrs JSON IN OUT`: policy
 * requirements applied (cipher, bound attributes, TEE flag) or refused with
 * exit 1 and no output file (missing AAD, over-age KEK, no attestation); a
 * test attestation provider module; the progress bar only on a terminal.
 */
import t from "tap";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
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
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

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
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", "{\n nope\n}", "in.bin", "out/x"], /^swarm-policy: --attrs is not valid JSON: line 2, column 2: unexpected "n"\n$/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", "[1]", "in.bin", "out/x"], /--attrs must be a JSON object/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "missing.bin", "out/x"], /cannot read missing\.bin: no such file or directory/],
    [["encrypt", "p.policy", "--keyring", "nowhere", "--attrs", conf, "in.bin", "out/x"], /keyring directory .*nowhere does not exist/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "--attestation", "notprovider.mjs", "in.bin", "out/x"], /does not export an attestation provider/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "--chunk-size", "0", "in.bin", "out/x"], /--chunk-size must be a whole number from 1 to 16777216, got "0"/],
    // Number() read these as 16, 1000 and 0: each value is refused as given, naming the option.
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "--chunk-size", "0x10", "in.bin", "out/x"], /--chunk-size must be a whole number from 1 to 16777216, got "0x10"/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "--chunk-size", "1e3", "in.bin", "out/x"], /--chunk-size must be a whole number from 1 to 16777216, got "1e3"/],
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "--chunk-size", "1.5", "in.bin", "out/x"], /--chunk-size must be a whole number/],
    // An empty --kek was taken as no --kek: the default KEK wrapped the data.
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "--kek", "", "in.bin", "out/x"], /^swarm-policy: option '--kek <id>' must not be empty or blank/],
    // A forgotten value: --kek took "--format" and "json" became a policy path.
    [["encrypt", "p.policy", "--keyring", "ring", "--attrs", conf, "--kek", "--format", "json", "in.bin", "out/x"], /option '--kek <id>' got "--format" as its value/],
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

/** The `$ swarm-policy ...` commands of a docs code block, each with the output lines under it. */
function docSession(doc: string, heading: string): Array<{ args: string[]; output: string }> {
  const section = doc.slice(doc.indexOf(heading));
  const block = /```\n(\$ swarm-policy keys init[\s\S]*?)```/.exec(section)![1]!;
  const steps: Array<{ args: string[]; output: string }> = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("$ swarm-policy ")) {
      const words = line.slice("$ swarm-policy ".length).match(/'[^']*'|\S+/g)!;
      steps.push({ args: words.map((w) => w.replace(/^'(.*)'$/, "$1")), output: "" });
    } else if (line !== "") steps[steps.length - 1]!.output += line + "\n";
  }
  return steps;
}

t.test("the docs/cli.md example: PHI through the repository's policies/, encrypted and decrypted", async (t) => {
  const cwd = t.testdir({ "snp-provider.mjs": ATTESTING_PROVIDER });
  cpSync(path.join(repoRoot, "policies"), path.join(cwd, "policies"), { recursive: true });
  const plain = Uint8Array.from(randomBytes(1_048_576));
  writeFileSync(path.join(cwd, "scan.dcm"), plain);
  const steps = docSession(readFileSync(path.join(repoRoot, "docs/cli.md"), "utf8"), "## `swarm-policy encrypt`");
  t.same(steps.map((s) => s.args[0]), ["keys", "encrypt", "decrypt"], "the documented session");
  for (const { args, output } of steps) {
    const r = await run(args, { cwd });
    t.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    t.equal(r.stdout, output.replaceAll("/srv/work", cwd), args[0]);
  }
  t.ok(Buffer.from(plain).equals(readFileSync(path.join(cwd, "scan-copy.dcm"))), "the scan comes back");
  const header = await inspectStream([readFileSync(path.join(cwd, "scan.dcm.spev"))]);
  t.same(header.aad, [["record_id", "r-1"], ["tenant_id", "acme"]], "tenant and record bound in the header");
  t.equal(header.teeRequired, true);

  const encrypt = steps[1]!.args;
  const withAttrs = (attrs: object, out: string) => encrypt.map((a, i) => (i === encrypt.indexOf("--attrs") + 1 ? JSON.stringify(attrs) : a)).slice(0, -1).concat(out);
  const noRecord = await run(withAttrs({ classification: "phi", tenant_id: "acme" }, "x.spev"), { cwd });
  t.equal(noRecord.code, 1);
  t.match(noRecord.stderr, /refused: swarm\.encryption\/phi, swarm\.encryption\/default require AAD fields tenant_id, record_id; missing from the attributes: record_id/);
  const numeric = await run(withAttrs({ classification: "pii", tenant_id: "acme", record_id: 42 }, "n.spev"), { cwd });
  t.equal(numeric.code, 0, numeric.stderr);
  const boolean = await run(withAttrs({ classification: "phi", tenant_id: "acme", record_id: true }, "b.spev"), { cwd });
  t.equal(boolean.code, 1, "a record_id the schema does not allow is refused");
  t.match(boolean.stderr, /does not match the encryption schema/);
  t.notOk(readdirSync(cwd).includes("x.spev") || readdirSync(cwd).includes("b.spev"), "no output for a refusal");
  const wrongRecord = await run(["decrypt", "--keyring", "ring/", "--attrs", '{"tenant_id":"acme","record_id":"r-2"}', "--attestation", "./snp-provider.mjs", "scan.dcm.spev", "other.dcm"], { cwd });
  t.equal(wrongRecord.code, 1);
  t.match(wrongRecord.stderr, /bound to a different "record_id"/);
});
