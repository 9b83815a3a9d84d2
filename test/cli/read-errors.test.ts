/**
 * A file a verb is given (`--input`, `--events`, `--nodes`, `--inventory`,
 * `--risk`, an import FILE) that cannot be read: exit 2 and one line naming
 * the file as given, with a plain reason, never Node's "EISDIR: illegal
 * operation on a directory, read" or an absolute path.
 */
import t from "tap";
import { chmodSync, existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { POLICIES, run } from "./run.js";
import { fsReason } from "../../src/cli/fs-reason.js";
import { fixtureInventory, MESH_POLICY } from "../support/mesh-fixture.js";

/** An encryption rule, so that audit gets as far as reading its inventory. */
const ENCRYPTION = 'encryption default {\n  require cipher "aes-256-gcm"\n}\n';

const CASES: [string, string[], string][] = [
  ["eval --input", ["eval", "a.policy", "--input", "F"], "input F"],
  ["detect --events", ["detect", "a.policy", "--events", "F"], "events F"],
  ["mesh plan --nodes", ["mesh", "plan", "a.policy", "--nodes", "F", "--out", "o"], "inventory F"],
  ["audit --inventory", ["audit", "enc.policy", "--inventory", "F"], "inventory F"],
  ["eval --risk", ["eval", "a.policy", "--input", "in.json", "--risk", "F"], "risk snapshot F"],
  ["import json-rules-engine", ["import", "json-rules-engine", "F"], "F"],
];

t.test("a directory where a file is expected", async (t) => {
  const cwd = t.testdir({ "a.policy": POLICIES.clean, "enc.policy": ENCRYPTION, "in.json": "{}", dir: {} });
  for (const [name, args, what] of CASES) {
    const r = await run(args.map((a) => (a === "F" ? "dir" : a)), { cwd });
    t.equal(r.code, 2, name);
    t.equal(r.stderr, `swarm-policy: cannot read ${what.replace("F", "dir")}: is a directory\n`, name);
    t.equal(r.stdout, "", name);
  }
});

t.test("a file without read permission", { skip: process.getuid?.() === 0 ? "root reads every file" : false }, async (t) => {
  const cwd = t.testdir({ "a.policy": POLICIES.clean, "enc.policy": ENCRYPTION, "in.json": "{}", "secret.json": "{}" });
  chmodSync(path.join(cwd, "secret.json"), 0o000);
  for (const [name, args, what] of CASES) {
    const r = await run(args.map((a) => (a === "F" ? "secret.json" : a)), { cwd });
    t.equal(r.code, 2, name);
    t.equal(r.stderr, `swarm-policy: cannot read ${what.replace("F", "secret.json")}: permission denied\n`, name);
  }
});

t.test("the reasons, whoever runs the tests (root reads files without permission)", async (t) => {
  const errno = (code: string, message: string) => Object.assign(new Error(message), { code });
  t.equal(fsReason(errno("EACCES", "EACCES: permission denied, open '/abs/x.json'")), "permission denied");
  t.equal(fsReason(errno("EISDIR", "EISDIR: illegal operation on a directory, read")), "is a directory");
  t.equal(fsReason(errno("ENOTDIR", "ENOTDIR: not a directory, open '/abs/f/x'")), "not a directory");
  t.equal(fsReason(errno("EIO", "EIO: i/o error, read")), "EIO: i/o error, read", "others keep Node's message");
});

t.test("an output that is a directory (or, for mesh plan --out, is not one): one line, exit 2, nothing written", async (t) => {
  const cwd = t.testdir({
    "enc.policy": ENCRYPTION,
    "mesh.policy": MESH_POLICY,
    "nodes.json": JSON.stringify(fixtureInventory()),
    "d.policy": 'detect "any" {\n  where event.action == "login"\n}\n',
    "events.jsonl": '{"@timestamp":"2026-03-10T09:00:00Z","event":{"action":"login"}}\n',
    "plain.txt": "hello\n",
    dir: {},
  });
  t.equal((await run(["keys", "init", "--keyring", "ring"], { cwd })).code, 0);
  const sealed = await run(["encrypt", "enc.policy", "--keyring", "ring", "--attrs", "{}", "plain.txt", "sealed.spe"], { cwd });
  t.equal(sealed.code, 0, sealed.stderr);
  const cases: [string, string[], string][] = [
    ["encrypt OUT", ["encrypt", "enc.policy", "--keyring", "ring", "--attrs", "{}", "plain.txt", "dir"], "cannot write dir: is a directory"],
    ["decrypt OUT", ["decrypt", "--keyring", "ring", "sealed.spe", "dir"], "cannot write dir: is a directory"],
    ["detect --risk-out", ["detect", "d.policy", "--events", "events.jsonl", "--risk-out", "dir"], "cannot write dir: is a directory"],
    ["mesh keys gen --out", ["mesh", "keys", "gen", "--out", "dir", "--force"], "cannot write dir: is a directory"],
    ["mesh plan --out", ["mesh", "plan", "mesh.policy", "--nodes", "nodes.json", "--out", "plain.txt", "--time", "2026-01-10T00:00:00Z"], "cannot write the plan to plain.txt: not a directory"],
  ];
  for (const [name, args, message] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, name);
    t.equal(r.stderr, `swarm-policy: ${message}\n`, name);
    t.equal(r.stdout, "", name);
    t.same(readdirSync(path.join(cwd, "dir")), [], `${name}: no temporary file left in or beside it`);
  }
  t.notOk(readdirSync(cwd).some((f) => f.startsWith(".")), "no temporary file in the working directory");
});

t.test("an output of `-` (standard output) is refused, exit 2, no file named `-`", async (t) => {
  const cwd = t.testdir({
    "enc.policy": ENCRYPTION,
    "d.policy": 'detect "any" {\n  where event.action == "login"\n}\n',
    "events.jsonl": '{"@timestamp":"2026-03-10T09:00:00Z","event":{"action":"login"}}\n',
    "plain.txt": "hello\n",
  });
  t.equal((await run(["keys", "init", "--keyring", "ring"], { cwd })).code, 0);
  const sealed = await run(["encrypt", "enc.policy", "--keyring", "ring", "--attrs", "{}", "plain.txt", "sealed.spe"], { cwd });
  t.equal(sealed.code, 0, sealed.stderr);
  const message = "cannot write to standard output ('-'): name an output file (it is written whole, then renamed into place)";
  const cases: [string, string[]][] = [
    ["encrypt OUT", ["encrypt", "enc.policy", "--keyring", "ring", "--attrs", "{}", "plain.txt", "-"]],
    ["decrypt OUT", ["decrypt", "--keyring", "ring", "sealed.spe", "-"]],
    ["detect --risk-out", ["detect", "d.policy", "--events", "events.jsonl", "--risk-out", "-"]],
    ["mesh keys gen --out", ["mesh", "keys", "gen", "--out", "-"]],
  ];
  for (const [name, args] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, name);
    t.equal(r.stderr, `swarm-policy: ${message}\n`, name);
    t.equal(r.stdout, "", name);
    t.notOk(existsSync(path.join(cwd, "-")), `${name}: no file named -`);
  }
});

t.test("encrypt, decrypt and rewrap inputs and --attrs @FILE: plain reasons", async (t) => {
  const cwd = t.testdir({ "enc.policy": ENCRYPTION, dir: {} });
  t.equal((await run(["keys", "init", "--keyring", "ring"], { cwd })).code, 0);
  const cases: [string, string[], string][] = [
    ["--attrs @missing", ["encrypt", "enc.policy", "--keyring", "ring", "--attrs", "@nope.json", "dir", "out"], "cannot read --attrs file nope.json: no such file or directory"],
    ["--attrs @dir", ["encrypt", "enc.policy", "--keyring", "ring", "--attrs", "@dir", "dir", "out"], "cannot read --attrs file dir: is a directory"],
    ["rewrap dir", ["rewrap", "--keyring", "ring", "dir"], "dir: is a directory"],
  ];
  for (const [name, args, message] of cases) {
    const r = await run(args, { cwd });
    t.equal(r.code, 2, name);
    t.equal(r.stderr, `swarm-policy: ${message}\n`, name);
  }
});
