/**
 * The checker never throws and no pass fails, whatever the AST: parsed
 * example policies are mangled (fields replaced by null, wrong types, stray
 * nodes) and checked. And it scales linearly: checking 4x the rules costs
 * about 4x, not 16x (SP3007 and SP2003 hash, they do not compare pairwise).
 */
import t from "tap";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "../../src/parser/parse.js";
import { check, lastPassFailures } from "../../src/checker/check.js";
import type { PolicyFile } from "../../src/parser/ast.js";
import { generateAccessPolicy } from "../../bench/generate.js";
import { prng } from "../support/prng.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function collect(dir: string, out: string[]): void {
  for (const e of readdirSync(dir).sort()) {
    const full = path.join(dir, e);
    if (statSync(full).isDirectory()) collect(full, out);
    else if (e.endsWith(".policy")) out.push(full);
  }
}


const JUNK: unknown[] = [null, undefined, 0, -1, "", "x", true, [], {}, [null], { kind: "Name" }, { kind: "Binary", op: "and" }, { kind: "String" }, NaN];

function mangle(node: unknown, p: number, rnd: () => number): void {
  if (node === null || typeof node !== "object") return;
  for (const k of Object.keys(node)) {
    const obj = node as Record<string, unknown>;
    if (rnd() < p) obj[k] = JUNK[Math.floor(rnd() * JUNK.length)];
    else mangle(obj[k], p, rnd);
  }
}

t.test("mangled ASTs: check never throws and no pass fails", async (t) => {
  const files: string[] = [];
  collect(path.join(root, "policies"), files);
  t.ok(files.length > 0, "example policies to mangle");
  const texts = files.map((f) => ({ f, text: readFileSync(f, "utf8") }));
  const rnd = prng(0xc0ffee);
  const CASES = Number(process.env.CHECKER_FUZZ_CASES ?? 300);
  const failures = new Set<string>();
  for (let n = 0; n < CASES; n++) {
    const picks = [0, 1, 2].map(() => texts[Math.floor(rnd() * texts.length)]!);
    const asts: PolicyFile[] = picks.map(({ f, text }) => parse(text, f).ast);
    const p = [0.01, 0.05, 0.2][n % 3]!;
    for (const ast of asts) mangle(ast, p, rnd);
    try {
      const r = check(asts, { lint: true, readFile: () => '{ "type": "object" }' });
      for (const d of r.diagnostics) if (typeof d.span?.line !== "number") failures.add(`case ${n}: ${d.code} without a span`);
    } catch (err) {
      failures.add(`case ${n}: threw ${(err as Error).stack}`);
    }
    for (const f of lastPassFailures) failures.add(`case ${n}: ${f}`);
    if (failures.size > 5) break;
  }
  t.same([...failures], []);
});

t.test("garbage instead of files", async (t) => {
  for (const junk of [[null], [undefined], [{}], [{ kind: "File" }], [{ kind: "File", items: [null, {}, { kind: "AccessRule" }], comments: [null, {}] }]]) {
    t.doesNotThrow(() => check(junk as unknown as PolicyFile[]));
    t.same(lastPassFailures, []);
  }
});

function bestOf(n: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

t.test("checking a large set (scaling reported as a comment)", async (t) => {
  const small = parse(generateAccessPolicy(1000), "s.policy").ast;
  const large = parse(generateAccessPolicy(4000), "l.policy").ast;
  check([small]);
  const ts = bestOf(5, () => check([small], { lint: true }));
  const tl = bestOf(5, () => check([large], { lint: true }));
  // Reported, not asserted (speed is measured by `npm run bench`, never by
  // timing assertions): linear is 4x, quadratic 16x.
  t.comment(`4x the rules costs ${(tl / ts).toFixed(1)}x (${ts.toFixed(0)} ms -> ${tl.toFixed(0)} ms)`);
  t.equal(check([large], { lint: true }).diagnostics.filter((d) => d.severity === "error").length, 0, "the large set checks cleanly");
});
