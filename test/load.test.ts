/**
 * What a directory scan reads (readSources, behind every verb that takes a
 * policy directory): visible `*.policy` files and links to them, found
 * recursively; hidden entries skipped; each real file read once. The case
 * that drove it is a Kubernetes ConfigMap mounted as a directory, laid out
 * as the kubelet lays it out, including the moment of an update when two
 * timestamped directories exist side by side.
 */
import t from "tap";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readSources } from "../src/load.js";
import { loadPolicies } from "../src/engine.js";

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sp-load-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// The same rule ids in every version, as in a real update: two versions read together are duplicate definitions.
const A = (v: string) => `package cm\nallow "read" { when action == "read-${v}" }\n`;
const B = (v: string) => `package cm\ndeny "contractors" { when principal.roles contains "contractor-${v}" }\n`;

/** `dir/..<stamp>/{a,b}.policy` for one ConfigMap version. */
function version(dir: string, stamp: string, v: string): void {
  mkdirSync(path.join(dir, stamp));
  writeFileSync(path.join(dir, stamp, "a.policy"), A(v));
  writeFileSync(path.join(dir, stamp, "b.policy"), B(v));
}

t.test("a ConfigMap mount loads exactly one copy of each policy, also while the kubelet swaps versions", async (t) => {
  const dir = tempDir(t);
  version(dir, "..2026_12_06_10_00_00.111111111", "v1");
  symlinkSync("..2026_12_06_10_00_00.111111111", path.join(dir, "..data"));
  symlinkSync("..data/a.policy", path.join(dir, "a.policy"));
  symlinkSync("..data/b.policy", path.join(dir, "b.policy"));

  const steady = await readSources([dir]);
  t.same(steady.errors, []);
  t.same(steady.sources.map((s) => path.relative(dir, s.file)), ["a.policy", "b.policy"], "named by the links, never by the timestamp directory");
  t.same(steady.sources.map((s) => s.text), [A("v1"), B("v1")]);

  // An update, caught halfway: the new version written and ..data_tmp made, the old one not yet removed.
  version(dir, "..2026_12_06_10_05_00.222222222", "v2");
  symlinkSync("..2026_12_06_10_05_00.222222222", path.join(dir, "..data_tmp"));
  const during = await readSources([dir]);
  t.same(during.errors, []);
  t.same(during.sources.map((s) => s.text), [A("v1"), B("v1")], "still the version ..data names");
  // ..data renamed over: both timestamp directories are still there.
  rmSync(path.join(dir, "..data"));
  symlinkSync("..2026_12_06_10_05_00.222222222", path.join(dir, "..data"));
  rmSync(path.join(dir, "..data_tmp"));
  const swapped = await loadPolicies(dir);
  t.same(swapped.diagnostics, [], "no duplicate definitions");
  t.same(swapped.loadErrors, []);
  t.same(swapped.ruleIds, ["cm/read", "cm/contractors"]);
  t.equal(swapped.evaluateAccess({ principal: { id: "p", roles: [] }, action: "read-v2", resource: { id: "r" } }).decision, "allow", "the new version");
  t.same(swapped.files.map((f) => path.relative(dir, f.file)), ["a.policy", "b.policy"]);
  t.equal(swapped.version, (await loadPolicies(path.join(dir, "..2026_12_06_10_05_00.222222222"))).version, "the version of the content, not of the timestamp");
});

t.test("a directory scan: hidden entries skipped, links to .policy files followed, each real file once", async (t) => {
  const dir = tempDir(t);
  const real = tempDir(t);
  writeFileSync(path.join(real, "shared.policy"), A("shared"));
  mkdirSync(path.join(dir, ".hidden"));
  writeFileSync(path.join(dir, ".hidden", "x.policy"), B("hidden"));
  writeFileSync(path.join(dir, ".swap.policy"), B("swap"));
  mkdirSync(path.join(dir, "sub"));
  writeFileSync(path.join(dir, "sub", "own.policy"), B("own"));
  symlinkSync(path.join(real, "shared.policy"), path.join(dir, "link.policy"));
  symlinkSync(path.join(real, "shared.policy"), path.join(dir, "sub", "same.policy"));
  symlinkSync(path.join(real, "shared.policy"), path.join(dir, "notes.txt"));
  symlinkSync(real, path.join(dir, "linked-dir"));
  const r = await readSources([dir, path.join(real, "shared.policy")]);
  t.same(r.errors, []);
  t.same(r.sources.map((s) => path.relative(dir, s.file)), ["link.policy", path.join("sub", "own.policy")], "the shared file once, by its first name");

  const hidden = await readSources([path.join(dir, ".hidden")]);
  t.same(hidden.sources.map((s) => s.text), [B("hidden")], "a hidden directory named on the command line is read");
});

t.test("a .policy link that does not resolve is an error, not a policy silently dropped", async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, "ok.policy"), A("ok"));
  symlinkSync("missing.policy", path.join(dir, "dangling.policy"));
  symlinkSync("loop-b.policy", path.join(dir, "loop-a.policy"));
  symlinkSync("loop-a.policy", path.join(dir, "loop-b.policy"));
  const r = await readSources([dir]);
  t.same(r.sources.map((s) => path.basename(s.file)), ["ok.policy"]);
  t.same(
    r.errors.map((e) => [path.basename(e.path), e.message]),
    [
      ["dangling.policy", "no such file or directory"],
      ["loop-a.policy", "too many levels of symbolic links"],
      ["loop-b.policy", "too many levels of symbolic links"],
    ],
  );
});

t.test("a file that is not valid UTF-8 is a read error with the place of the first bad byte, not text with replacement characters", async (t) => {
  const dir = tempDir(t);
  // Latin-1 "José": decoded leniently the string became "Jos\ufffd" and this deny rule silently never matched.
  writeFileSync(path.join(dir, "latin1.policy"), Buffer.concat([Buffer.from('deny "d" {\n  when principal.name == "Jos'), Buffer.from([0xe9]), Buffer.from('"\n}\n')]));
  writeFileSync(path.join(dir, "ok.policy"), "\ufeff" + A("ok").replace("read-", "read-\u00e9\u{1F600}\ufffd"));
  const r = await readSources([dir]);
  t.same(r.sources.map((s) => path.basename(s.file)), ["ok.policy"], "valid UTF-8 (a BOM, accents, astral characters, a real U+FFFD) reads");
  t.same(r.errors.map((e) => [path.basename(e.path), e.message]), [["latin1.policy", "not valid UTF-8 (byte 0xe9 at line 2, column 30)"]]);
  const engine = await loadPolicies(dir);
  t.equal((engine.evaluate({ principal: { name: "Jos\u00e9" }, action: "a", resource: {}, context: {} }) as { decision: string }).decision, "deny", "fails closed");
  t.ok(engine.loadErrors.length > 0);
});

t.test("a subdirectory that cannot be read is named itself, and the rest of the tree is still scanned", async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, "a"));
  mkdirSync(path.join(dir, "locked"));
  mkdirSync(path.join(dir, "z"));
  writeFileSync(path.join(dir, "a/a.policy"), A("a"));
  writeFileSync(path.join(dir, "z/z.policy"), A("z"));
  // root reads every directory whatever its mode, so the refusal is mocked
  const fs = await import("node:fs/promises");
  const { readSources: read } = await t.mockImport<typeof import("../src/load.js")>("../src/load.js", {
    "node:fs/promises": {
      ...fs,
      readdir: (async (p: string, o: unknown) => {
        if (path.basename(p) === "locked") throw Object.assign(new Error(`EACCES: permission denied, scandir '${p}'`), { code: "EACCES" });
        return fs.readdir(p, o as { withFileTypes: true });
      }) as typeof fs.readdir,
    },
  });
  const r = await read([dir]);
  t.same(r.errors.map((e) => [path.relative(dir, e.path), e.message]), [["locked", "permission denied"]], "the directory that failed, not the path given");
  t.same(r.sources.map((s) => path.relative(dir, s.file)), ["a/a.policy", "z/z.policy"]);
});
