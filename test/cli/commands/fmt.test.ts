import t from "tap";
import path from "node:path";
import { chmodSync, readdirSync, readFileSync, statSync } from "node:fs";
import { format } from "../../../src/format/format.js";
import { run, POLICIES } from "../run.js";

/** What the formatter makes of the unformatted policy (its layout is the formatter's business). */
const formatted = format(POLICIES.unformatted, "u.policy").output;

t.test("the fixtures are what these tests need", async (t) => {
  t.not(formatted, POLICIES.unformatted, "the unformatted policy changes");
  t.equal(format(formatted, "u.policy").changed, false, "formatting is idempotent");
});

t.test("default: formatted text on stdout, files untouched", async (t) => {
  const cwd = t.testdir({ "u.policy": POLICIES.unformatted });
  const r = await run(["fmt", "u.policy"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, formatted);
  t.equal(readFileSync(path.join(cwd, "u.policy"), "utf8"), POLICIES.unformatted);
});

t.test("default with several files prints them all, in path order", async (t) => {
  const cwd = t.testdir({ d: { "b.policy": formatted, "a.policy": POLICIES.unformatted } });
  const r = await run(["fmt", "d"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, formatted + formatted);
});

t.test("--check lists files that would change and exits 1", async (t) => {
  const cwd = t.testdir({ d: { "ok.policy": formatted, "u.policy": POLICIES.unformatted, "v.policy": POLICIES.unformatted } });
  const r = await run(["fmt", "--check", "d"], { cwd });
  t.equal(r.code, 1);
  t.equal(r.stdout, "d/u.policy\nd/v.policy\n");
  t.equal(readFileSync(path.join(cwd, "d/u.policy"), "utf8"), POLICIES.unformatted, "--check writes nothing");
  const ok = await run(["fmt", "--check", "d/ok.policy"], { cwd });
  t.equal(ok.code, 0);
  t.equal(ok.stdout, "");
});

t.test("--write replaces changed files atomically, keeps their mode, names them", async (t) => {
  const cwd = t.testdir({ d: { "ok.policy": formatted, "u.policy": POLICIES.unformatted } });
  const target = path.join(cwd, "d/u.policy");
  chmodSync(target, 0o640);
  const okBefore = statSync(path.join(cwd, "d/ok.policy")).mtimeMs;
  const r = await run(["fmt", "--write", "d"], { cwd });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, "d/u.policy\n", "only the changed file is named");
  t.equal(readFileSync(target, "utf8"), formatted, "content replaced");
  t.equal(statSync(target).mode & 0o777, 0o640, "mode kept");
  t.equal(statSync(path.join(cwd, "d/ok.policy")).mtimeMs, okBefore, "an unchanged file is not rewritten");
  t.same(readdirSync(path.join(cwd, "d")).sort(), ["ok.policy", "u.policy"], "no temp files left behind");
  const again = await run(["fmt", "--check", "d"], { cwd });
  t.equal(again.code, 0, "formatted now");
});

t.test("--write refuses a read-only file: it stays as it was, the others are written, exit 2", async (t) => {
  const cwd = t.testdir({ d: { "ro.policy": POLICIES.unformatted, "u.policy": POLICIES.unformatted } });
  const ro = path.join(cwd, "d/ro.policy");
  chmodSync(ro, 0o444);
  const r = await run(["fmt", "--write", "d"], { cwd });
  t.equal(r.code, 2);
  t.equal(r.stdout, "d/u.policy\n", "the writable file is written and named");
  t.match(r.stderr, "swarm-policy: cannot write d/ro.policy: read-only (mode 0444); make it writable to format it in place");
  t.equal(readFileSync(ro, "utf8"), POLICIES.unformatted, "the read-only file is unchanged");
  t.equal(statSync(ro).mode & 0o777, 0o444);
  t.equal(readFileSync(path.join(cwd, "d/u.policy"), "utf8"), formatted);
});

t.test("a file with syntax errors is reported, left untouched, exit 1", async (t) => {
  const cwd = t.testdir({ d: { "broken.policy": POLICIES.syntaxError, "u.policy": POLICIES.unformatted } });
  for (const mode of [[], ["--check"], ["--write"]]) {
    const r = await run(["fmt", ...mode, "d"], { cwd });
    t.equal(r.code, 1, `fmt ${mode.join(" ")}`);
    t.match(r.stderr, /^error\[SP1\d{3}\]: .*\n --> d\/broken\.policy:/, "reported on stderr with its location");
    t.match(r.stderr, /\n1 error, 0 warnings\n$/);
    t.notMatch(r.stdout, /broken/, "not listed as formatted");
    t.equal(readFileSync(path.join(cwd, "d/broken.policy"), "utf8"), POLICIES.syntaxError, "untouched");
  }
  t.equal(readFileSync(path.join(cwd, "d/u.policy"), "utf8"), formatted, "the other file was still written");
  t.same(readdirSync(path.join(cwd, "d")).sort(), ["broken.policy", "u.policy"], "no temp files");
});
