/**
 * Schema files the checker must refuse or read with care: schemas whose
 * validator could not judge an input synchronously, files that are not
 * JSON (the message must not quote them), files that are not UTF-8, formats
 * ajv does not know. Each is SP2007 or SP2008, never a crash and never a
 * validator that lets inputs through unjudged.
 */
import t from "tap";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { compile } from "../../src/engine.js";
import { checkText, where } from "./helpers.js";

/** Check `policy` (file /p/t.policy) with every schema file read as `schema`. */
function withSchema(schema: string, policy = `schema access "s.json"\n`) {
  return checkText({ "/p/t.policy": policy }, { lint: false, readFile: () => schema });
}
const lines = (r: ReturnType<typeof withSchema>) => r.diagnostics.map((d) => `${where(d)} ${d.message}`);

t.test("an $async schema is SP2008: its validator answers with a promise, which would pass every input", async (t) => {
  const r = withSchema(JSON.stringify({ $async: true, type: "object", properties: { principal: { type: "object" } } }));
  t.same(r.diagnostics.map(where), ["SP2008@1:15-1:23"]);
  t.match(r.diagnostics[0]!.message, "$async");
  t.equal(r.schemas.size, 0);
});

t.test("a schema file that is not JSON is SP2007 at a line and column, without quoting the file", async (t) => {
  const r = withSchema(`{\n  "type": "object",\n  API_TOKEN=sk-live-0123456789abcdef\n}\n`);
  t.same(lines(r), ["SP2007@1:15-1:23 cannot read schema `s.json`: not JSON (line 3, column 3: unexpected \"A\")"]);
  t.notMatch(r.diagnostics[0]!.message, "sk-live");
  const flat = withSchema(`password=hunter2-and-more-secret-text`);
  t.notMatch(flat.diagnostics[0]!.message, "hunter2");
  t.match(flat.diagnostics[0]!.message, "line 1, column 1");
});

t.test("a schema file that is not UTF-8 is SP2007 (decoded leniently, an enum of \"José\" would never match)", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "sp-schema-utf8-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const latin1 = Buffer.concat([Buffer.from(`{\n  "enum": ["Jos`), Buffer.from([0xe9]), Buffer.from(`"]\n}\n`)]);
  writeFileSync(path.join(dir, "s.json"), latin1);
  const policy = `schema access "s.json"\nallow "a" { when action == "x" }\n`;
  const file = path.join(dir, "t.policy");
  const want = "cannot read schema `s.json`: not valid UTF-8 (byte 0xe9 at line 2, column 16)";
  const checked = checkText({ [file]: policy }, { lint: false });
  t.same(checked.diagnostics.map((d) => `${d.code} ${d.message}`), [`SP2007 ${want}`], "check() reading the file itself");
  const engine = compile(policy, { file });
  t.same(engine.diagnostics.map((d) => `${d.code} ${d.message}`), [`SP2007 ${want}`], "the engine reading it");
  // A byte-order mark is not a problem.
  writeFileSync(path.join(dir, "s.json"), `\ufeff{ "type": "object" }`);
  t.same(compile(policy, { file }).diagnostics, []);
});

t.test("a format ajv does not know is SP2008, not a check silently skipped (and nothing is printed)", async (t) => {
  const printed: unknown[] = [];
  const warn = console.warn;
  const error = console.error;
  console.warn = (...a: unknown[]) => void printed.push(a);
  console.error = (...a: unknown[]) => void printed.push(a);
  t.teardown(() => {
    console.warn = warn;
    console.error = error;
  });
  const schema = { type: "object", properties: { principal: { type: "object", properties: { email: { type: "string", format: "emial" } } } } };
  const r = withSchema(JSON.stringify(schema));
  t.same(lines(r), ['SP2008@1:15-1:23 invalid JSON Schema `s.json`: unknown format "emial" at #/properties/principal/properties/email']);
  t.same(printed, []);
  t.same(withSchema(JSON.stringify({ type: "string", format: "email" })).diagnostics, [], "the standard formats are known");
});

t.test("a schema path naming a FIFO, a device or a huge file is SP2007, without hanging or reading it", async (t) => {
  t.setTimeout(20_000); // a FIFO opened blocking would hang the load (and a server's event loop)
  const dir = mkdtempSync(path.join(tmpdir(), "sp-schema-special-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync("mkfifo", [path.join(dir, "fifo.json")]);
  writeFileSync(path.join(dir, "huge.json"), "");
  truncateSync(path.join(dir, "huge.json"), 64 * 1024 * 1024);
  const file = path.join(dir, "t.policy");
  for (const [target, reason] of [
    ["fifo.json", "not a regular file"],
    ["/dev/zero", "not a regular file"],
    ["huge.json", "larger than 16 MiB"],
  ] as const) {
    const policy = `schema access "${target}"\nallow "a" { when action == "x" }\n`;
    const engine = compile(policy, { file });
    t.same(engine.diagnostics.map((d) => `${d.code} ${d.message}`), [`SP2007 cannot read schema \`${target}\`: ${reason}`], target);
  }
});
