/**
 * The oracle again (oracle.test.ts), over inputs with hostile values mixed
 * in: NaN, ±Infinity, -0, epoch seconds beyond a Date's range, CIDR ranges
 * and IPv4-mapped addresses in address fields, own "__proto__" keys, empty
 * containers, times as strings and numbers. Four ways must give identical
 * decisions, reasons, obligations and errors: generated code behind the
 * rule index, closures only (`generate: false`), explain (closures over the
 * index's candidates), and the reference interpreter (no index). Then no
 * shortcut can turn an error into "does not apply".
 *
 * ORACLE_SEED=n reproduces a run; ORACLE_WEIRD_POLICIES sets how many policies.
 */
import t from "tap";
import { parse } from "../../src/parser/parse.js";
import { compilePolicySet } from "../../src/evaluator/compile.js";
import { Evaluator } from "../../src/evaluator/evaluate.js";
import { referenceAccess } from "../../src/evaluator/reference.js";
import { MemoryRiskStore } from "../../src/evaluator/stores.js";
import type { AccessDecision } from "../../src/evaluator/decision.js";
import { Gen, prng, randomInput, randomPolicy } from "./random-policy.js";

const seed = Number(process.env["ORACLE_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
const policies = Number(process.env["ORACLE_WEIRD_POLICIES"] ?? 300);
const NOON = Date.parse("2026-01-01T12:00:00Z");

const WEIRD: readonly unknown[] = [
  Number.NaN,
  Infinity,
  -Infinity,
  -0,
  1e300,
  1e13,
  -1e13,
  "",
  "__proto__",
  "10.0.0.0/8",
  "10.1.2.3/0",
  "::ffff:10.1.2.3",
  "::10.1.2.3",
  "ADMIN",
  "admin\u0000",
  null,
  [],
  {},
  [[]],
  "2026-01-01T12:00:00Z",
  "2026-01-01T12:00:00.001+00:00",
  1767268800,
  true,
];

function mutate(g: Gen, o: unknown, depth = 0): void {
  if (typeof o !== "object" || o === null || depth > 3) return;
  const rec = o as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    if (g.chance(0.15)) rec[k] = g.pick(WEIRD);
    else mutate(g, rec[k], depth + 1);
  }
  // An own "__proto__" key, as JSON.parse makes one.
  if (!Array.isArray(o) && g.chance(0.05)) Object.defineProperty(o, "__proto__", { value: g.pick(WEIRD), enumerable: true, configurable: true, writable: true });
}

const core = (d: AccessDecision) => JSON.stringify({ decision: d.decision, rule: d.rule, reasons: d.reasons, obligations: d.obligations, errors: d.errors });

t.test(`hostile values: generated, closures, explain and reference agree (seed ${seed})`, async (t) => {
  const g = new Gen(prng(seed));
  const store = new MemoryRiskStore();
  store.raise("u1", 60, NOON - 60_000, 3600_000);
  const options = { clock: () => NOON + 5 * 60_000, risk: store };
  let compared = 0;
  for (let p = 0; p < policies; p++) {
    const text = randomPolicy(g);
    const { ast, diagnostics } = parse(text, "p.policy");
    if (diagnostics.length > 0) {
      t.fail(`generated policy does not parse: ${diagnostics[0]!.message}\n${text}`);
      return;
    }
    const generated = new Evaluator(compilePolicySet([ast]), { version: "v", ...options });
    const closures = new Evaluator(compilePolicySet([ast], { generate: false }), { version: "v", ...options });
    for (let r = 0; r < 8; r++) {
      const input = randomInput(g);
      mutate(g, input);
      const want = core(referenceAccess([ast], input, "v", options));
      const got = [generated.evaluate(input), closures.evaluate(input), generated.evaluate(input, { explain: true })].map((d) => core(d as AccessDecision));
      compared++;
      for (const [i, how] of ["generated", "closures", "explain"].entries()) {
        if (got[i] !== want) {
          t.equal(got[i], want, `${how} differs from the reference (ORACLE_SEED=${seed}, policy ${p}, request ${r})\n--- policy\n${text}--- input\n${String(JSON.stringify(input))}`);
          return;
        }
      }
    }
  }
  t.pass(`${compared} decisions identical four ways over ${policies} policies`);
});
