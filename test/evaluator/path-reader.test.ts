/**
 * Generated path readers (path-reader.ts) read exactly what the closure
 * compiler's path loop reads: the same value, or the same shared error, on
 * objects, nulls, lists, IPs, missing steps, inherited names and other types.
 */
import t from "tap";
import { parseOk } from "./helpers.js";
import { ConstTable, ACCESS_ROOTS } from "../../src/evaluator/compile.js";
import { ExprCompiler } from "../../src/evaluator/compile-expr.js";
import { EvalContext } from "../../src/evaluator/context.js";
import { EMPTY_RISK_STORE } from "../../src/evaluator/stores.js";
import { parseIp } from "../../src/evaluator/cidr.js";
import { EvalError } from "../../src/evaluator/values.js";
import type { AccessRule, Expr } from "../../src/parser/ast.js";

const PATHS = [
  "principal",
  "principal.id",
  "principal.tags.team",
  'principal["x-y"]',
  "principal.constructor",
  "principal.__proto__",
  'resource["toString"].x',
  "resource.a.b.c",
  "resource.ip.w3",
  "context.list.length",
];

const INPUTS: Record<string, unknown>[] = [
  {},
  { principal: null },
  { principal: "alice" },
  { principal: 3 },
  { principal: [1, 2] },
  { principal: { id: "alice", tags: { team: "infra" }, "x-y": 7 } },
  { principal: { id: null, tags: null, constructor: "own", __proto__: null } },
  { principal: { tags: [1] }, resource: { toString: { x: 1 }, a: { b: { c: false } } } },
  { principal: { tags: { team: null } }, resource: { a: { b: null }, ip: parseIp("10.0.0.1") } },
  { resource: { a: [], toString: "s" }, context: { list: [1, 2, 3] } },
  { resource: { a: { b: "str" } }, context: { list: { length: 2 } } },
];

/** The same value, or errors that say the same (each compiler makes its own error objects). */
function same(x: unknown, y: unknown): boolean {
  if (x instanceof EvalError && y instanceof EvalError) return x.message === y.message && x.missing === y.missing && JSON.stringify(x.span) === JSON.stringify(y.span);
  return x === y;
}

function exprOf(text: string): Expr {
  const file = parseOk(`allow "p" {\n  when ${text}\n}\n`);
  const rule = file.items[0] as AccessRule;
  return (rule.clauses[0] as { expr: Expr }).expr;
}

t.test("generated readers agree with the path loop", async (t) => {
  const consts = new ConstTable([]);
  const loop = new ExprCompiler(consts.scope("", ACCESS_ROOTS));
  const generated = new ExprCompiler(consts.scope("", ACCESS_ROOTS), { generatePaths: true });
  let checked = 0;
  let failures = 0;
  for (const p of PATHS) {
    const e = exprOf(p);
    const a = loop.compile(e).fn;
    const b = generated.compile(e).fn;
    if (p !== "principal") t.equal(b.name, "readPath", `${p}: read by a generated function`);
    for (const input of INPUTS) {
      // Each input twice: a reader's first call and one after V8 has seen it.
      for (let i = 0; i < 2; i++) {
        const c = new EvalContext(input as never, NaN, () => NaN, EMPTY_RISK_STORE);
        const x = a(c);
        const y = b(c);
        if (!same(x, y)) failures++, t.fail(`${p} on ${JSON.stringify(input)}: ${String(x)} vs ${String(y)}`);
        checked++;
      }
    }
  }
  t.ok(checked > 0 && failures === 0, "no disagreement");
  t.equal(checked, PATHS.length * INPUTS.length * 2, "every path on every input");
});
