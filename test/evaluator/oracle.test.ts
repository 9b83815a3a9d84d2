/**
 * The oracle: thousands of random policies and requests through the compiled
 * evaluator (closures, folding, rule index) and the reference interpreter
 * (tree walking, no index). Decisions, deciding rules, reasons, obligations
 * and errors must be identical. The index must never change a decision.
 *
 * ORACLE_SEED=n reproduces a run; ORACLE_POLICIES sets how many policies
 * (default 3000, each with 8 requests).
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
const policies = Number(process.env["ORACLE_POLICIES"] ?? 3000);
const REQUESTS = 8;
const NOON = Date.parse("2026-01-01T12:00:00Z");

function core(d: AccessDecision) {
  return { decision: d.decision, rule: d.rule, reasons: d.reasons, obligations: d.obligations, errors: d.errors };
}

t.test(`compiled and reference decisions are identical (seed ${seed})`, async (t) => {
  const g = new Gen(prng(seed));
  const store = new MemoryRiskStore();
  store.raise("u1", 60, NOON - 60_000, 3600_000);
  store.raise("admin", 90, NOON - 60_000);
  const options = { clock: () => NOON + 5 * 60_000, risk: store };
  let compared = 0;
  let indexed = 0;
  let errored = 0;
  const outcomes = new Map<string, number>();
  for (let p = 0; p < policies; p++) {
    const text = randomPolicy(g);
    const { ast, diagnostics } = parse(text, "p.policy");
    if (diagnostics.length > 0) {
      t.fail(`generated policy does not parse (seed ${seed}, policy ${p}): ${diagnostics[0]!.message}\n${text}`);
      return;
    }
    const ev = new Evaluator(compilePolicySet([ast]), { version: "v", ...options });
    for (let r = 0; r < REQUESTS; r++) {
      const input = randomInput(g);
      const got = ev.evaluate(input, { explain: r === 0 }) as AccessDecision;
      const want = referenceAccess([ast], input, "v", options);
      compared++;
      if (got.explain?.indexed) indexed++;
      if (got.errors.length > 0) errored++;
      outcomes.set(got.decision, (outcomes.get(got.decision) ?? 0) + 1);
      const a = core(got);
      const b = core(want);
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        t.same(a, b, `decisions differ (ORACLE_SEED=${seed}, policy ${p}, request ${r})\n--- policy\n${text}--- input\n${JSON.stringify(input)}`);
        return;
      }
    }
  }
  t.pass(`${compared} decisions identical over ${policies} policies`);
  // The generator must actually exercise what it claims to.
  t.ok(compared >= policies * REQUESTS, "every request compared");
  t.ok((outcomes.get("allow") ?? 0) > compared / 50, `allows: ${outcomes.get("allow")}`);
  t.ok((outcomes.get("challenge") ?? 0) > 0, `challenges: ${outcomes.get("challenge")}`);
  t.ok((outcomes.get("deny") ?? 0) > compared / 10, `denies: ${outcomes.get("deny")}`);
  t.ok(errored > compared / 20, `decisions with errors: ${errored}`);
  t.ok(indexed > 0, `explained requests that used the index: ${indexed}`);
});
