/**
 * Meaning survives formatting, beyond the hand-written corpora: seeded
 * random expressions (every operator, `not`, unary minus, `has`, members and
 * indexes of literals, calls, lists, objects with keyword keys, escapes and
 * invisible characters in strings, parentheses) in every place the grammar
 * takes one, and the policy snippets of the docs. What parses must format to
 * text that parses to the same tree (spans aside), formats to itself, and
 * has canonical whitespace. The one difference allowed is the documented one
 * (docs/fmt.md): a `has` test left of a tighter operator gets parentheses.
 */
import t, { type Test } from "tap";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "../../src/format/format.js";
import { parse } from "../../src/parser/parse.js";
import { hasErrors } from "../../src/diagnostics/diagnostic.js";
import { stripSpans, commentTexts, layoutProblems } from "./strip-spans.js";
import { prng } from "../support/prng.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** `node` without the Paren nodes printed around `has` tests (docs/fmt.md). */
function hasParensDropped(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(hasParensDropped);
  if (node === null || typeof node !== "object") return node;
  const n = node as Record<string, unknown>;
  if (n["kind"] === "Paren" && (n["expr"] as { kind?: string }).kind === "Has") return hasParensDropped(n["expr"]);
  return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, hasParensDropped(v)]));
}

function roundTrip(t: Test, text: string, what: string): boolean {
  const before = parse(text, "gen.policy");
  if (hasErrors(before.diagnostics)) return false;
  const first = format(text, "gen.policy");
  const after = parse(first.output, "gen.policy");
  const ok =
    t.equal(first.internalError, undefined, `${what}: no internal error`) &&
    t.same(after.diagnostics.filter((d) => d.severity === "error"), [], `${what}: output parses`) &&
    t.same(hasParensDropped(stripSpans(after.ast)), hasParensDropped(stripSpans(before.ast)), `${what}: same tree`) &&
    t.same(commentTexts(after.ast), commentTexts(before.ast), `${what}: same comments`) &&
    t.equal(format(first.output, "gen.policy").output, first.output, `${what}: idempotent`) &&
    t.same(layoutProblems(first.output), [], `${what}: canonical whitespace`);
  if (!ok) t.comment(`input:\n${text}\noutput:\n${first.output}`);
  return true;
}

const LOOSE_OPS = ["or", "and", "or", "and", "??", "+", "-", "*", "/"];
const OPS = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "contains", "contains_any", "contains_all", "like", "starts_with", "ends_with", "??", "+", "-", "*", "/"];
const WORDS = ["a", "principal", "when", "tags", "count", "and", "not", "true", "in", "has", "x_1"];
const LITERALS = ["1", "0.50", "-3", "007", "-0", "15m", "1h30m", "true", "false", '"s"', '"\\u0041"', '"a\\"b"', '"\\\\*"', '"é"', '""', '"\\n"', '"\\u202e"', '"\u200b"', '"\\ud83d\\ude00"'];

function generator(seed: number) {
  const rnd = prng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const some = (n: number, f: () => string): string[] => Array.from({ length: Math.floor(rnd() * n) }, f);
  const atom = (d: number): string => {
    const r = rnd();
    if (d <= 0 || r < 0.35) return pick([...LITERALS, "x", "y", "now"]);
    if (r < 0.45) return `(${expr(d - 1)})`;
    if (r < 0.55) return `[${some(3, () => expr(d - 1)).join(", ")}]`;
    if (r < 0.62) return `{${some(3, () => `${pick([...WORDS, '"k-y"', '"true"'])}${Math.floor(rnd() * 1e6)}: ${expr(d - 1)}`).join(", ")}}`;
    if (r < 0.72) return `${pick(["f", "ip", "size", "lower"])}(${some(3, () => expr(d - 1)).join(", ")})`;
    return pick(["x", "y", "principal"]);
  };
  const operand = (d: number): string => {
    let s = atom(d);
    for (const _ of some(3, () => "")) {
      // `1.a` would lex as a malformed number: members of numbers need a space.
      s += rnd() < 0.6 ? `${/^[-0-9]/.test(s) ? " " : ""}.${pick(WORDS)}` : `[${expr(d - 1)}]`;
    }
    return rnd() < 0.15 ? `-${pick(["", " "])}${s}` : s;
  };
  const expr = (d: number): string => {
    let s = (rnd() < 0.15 ? "not " : "") + operand(d);
    for (const _ of d <= 0 ? [] : some(3, () => "")) {
      if (rnd() < 0.1) s += ` has ${pick([...WORDS, '"x-y"', '"true"'])}`;
      else s += ` ${pick(rnd() < 0.5 ? LOOSE_OPS : OPS)} ${rnd() < 0.1 ? "not " : ""}${operand(d - 1)}`;
    }
    return s;
  };
  const e = () => expr(3);
  const o = () => operand(2);
  return (): string =>
    pick([
      () => `const c = ${e()}\n`,
      () => `allow "r" {\n  when ${e()}\n  unless ${e()}\n  require ${e()} else "m"\n}\n`,
      () => `detect "d" {\n  where ${e()}\n  by ${o()}, ${o()} within 1m\n  having distinct ${o()} >= ${e()}\n  then risk ${o()} + ${e()} for 1h\n}\n`,
      () => `detect "s" {\n  all {\n    s1: ${e()} count >= ${e()}\n    s2: ${e()}\n  }\n  then quarantine ${o()}\n}\n`,
      () => `test "t" {\n  access { a: ${e()}, "b-c": [${e()}] }\n  expect ${e()}\n}\n`,
      () => `deny "d" {\n  when ${Array.from({ length: 6 }, () => expr(1)).join(pick([" and ", " or ", "\n    and "]))}\n}\n`,
    ])();
}

t.test("generated expressions in every expression position", async (t) => {
  const next = generator(20261125);
  let parsed = 0;
  for (let i = 0; i < 1500; i++) if (roundTrip(t, next(), `case ${i}`)) parsed++;
  t.ok(parsed > 500, `enough cases parse to mean something (${parsed} of 1500)`);
});

t.test("the policy snippets in the docs", async (t) => {
  const docs = ["README.md", ...readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
  let snippets = 0;
  for (const doc of docs) {
    const md = readFileSync(path.join(root, doc), "utf8");
    for (const m of md.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)) {
      const text = m[1]!;
      const tree = parse(text, doc);
      if (hasErrors(tree.diagnostics) || (tree.ast.items.length === 0 && tree.ast.package === null)) continue;
      if (roundTrip(t, text, `${doc} snippet at offset ${m.index}`)) snippets++;
    }
  }
  t.ok(snippets >= 10, `docs hold policy snippets (${snippets})`);
});
