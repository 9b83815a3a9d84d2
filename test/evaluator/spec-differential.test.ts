/**
 * The spec differential: random well-typed access policies and random JSON
 * requests through the whole engine (parser, checker, const folding,
 * generated code behind the rule index, closures, explain) and through
 * test/support/spec-reference.ts, a reading of spec/LANGUAGE.md that shares
 * no code with the engine (oracle.test.ts compares against
 * src/evaluator/reference.ts, which shares the engine's parsers, messages
 * and input checks). Decisions, deciding rules, reasons, obligations and
 * the rules and lines of errors must agree; a policy the checker refuses is
 * counted, and must be rare.
 *
 * SPEC_DIFF_SEED (default fixed, printed) and SPEC_DIFF_POLICIES (default
 * 300, each with 12 requests) tune it: `SPEC_DIFF_POLICIES=20000 npx tap
 * test/evaluator/spec-differential.test.ts` for a long run. A failure
 * prints the seed, the policy and the request, shrunk to the rules and
 * request fields that still disagree.
 */
import t from "tap";
import { compile, MemoryRiskStore, type AccessDecision, type Engine } from "../../src/index.js";
import { prng } from "../support/prng.js";
import { comparable, decide, evalNode, RErr, type RefDecision, type RefPolicy } from "../support/spec-reference.js";
import { CLOCK, Rand, STORE, randomPolicy, randomRequest, type GeneratedPolicy } from "../support/spec-policy-gen.js";

const SEED = Number(process.env["SPEC_DIFF_SEED"] ?? 0x5bec0de);
const POLICIES = Number(process.env["SPEC_DIFF_POLICIES"] ?? 300);
const REQUESTS = 12;

function store(): MemoryRiskStore {
  const s = new MemoryRiskStore();
  for (const r of STORE.raises) s.raiseUntil(r.id, r.amount, r.until);
  for (const q of STORE.quarantines) s.quarantineUntil(q.id, q.until);
  return s;
}

function engines(text: string): { how: string; run: (input: unknown) => AccessDecision; engine: Engine }[] {
  const generated = compile(text, { file: "p.policy", clock: () => CLOCK, risk: store() });
  const closures = compile(text, { file: "p.policy", clock: () => CLOCK, risk: store(), generate: false });
  return [
    { how: "generated", engine: generated, run: (i) => generated.evaluate(i) as AccessDecision },
    { how: "closures", engine: closures, run: (i) => closures.evaluate(i) as AccessDecision },
    { how: "explain", engine: generated, run: (i) => generated.evaluate(i, { explain: true }) as AccessDecision },
  ];
}

const same = (a: RefDecision, b: RefDecision) => JSON.stringify(a) === JSON.stringify(b);

/** The policy with only the rules in `keep` (the reference keeps load order). */
function onlyRules(p: GeneratedPolicy, keep: Set<number>): GeneratedPolicy {
  const lines = p.text.split("\n");
  const out: string[] = [];
  let rule = -1;
  let inRule = false;
  const lineMap = new Map<number, number>();
  lines.forEach((l, i) => {
    if (/^(allow|deny) "/.test(l)) {
      rule++;
      inRule = true;
    }
    if (!inRule || keep.has(rule)) {
      out.push(l);
      lineMap.set(i + 1, out.length);
    }
    if (l === "}") inRule = false;
  });
  const policy: RefPolicy = {
    consts: p.policy.consts,
    rules: p.policy.rules.filter((_, i) => keep.has(i)).map((r) => ({ ...r, clauses: r.clauses.map((c) => ({ ...c, line: lineMap.get(c.line)! })) })),
  };
  return { text: out.join("\n"), policy };
}

/** Fewer rules and input fields, as long as `differs` still holds. */
function shrink(p: GeneratedPolicy, input: Record<string, unknown>, differs: (p: GeneratedPolicy, input: unknown) => boolean): { p: GeneratedPolicy; input: unknown } {
  let keep = new Set(p.policy.rules.map((_, i) => i));
  for (const i of [...keep]) {
    const fewer = new Set([...keep].filter((k) => k !== i));
    if (fewer.size > 0 && differs(onlyRules(p, fewer), input)) keep = fewer;
  }
  const q = onlyRules(p, keep);
  const cur = structuredClone(input);
  const prune = (o: Record<string, unknown>): void => {
    for (const k of Object.keys(o)) {
      const v = o[k];
      delete o[k];
      if (differs(q, cur)) continue;
      o[k] = v;
      if (typeof v === "object" && v !== null && !Array.isArray(v)) prune(v as Record<string, unknown>);
    }
  };
  prune(cur);
  return { p: q, input: cur };
}

t.test(`the engine decides as the spec reference does (SPEC_DIFF_SEED=${SEED}, ${POLICIES} policies)`, async (t) => {
  const g = new Rand(prng(SEED));
  let compared = 0;
  let refused = 0;
  const rejected: string[] = [];
  const outcomes = new Map<string, number>();
  let errored = 0;
  const constErrors: string[] = [];
  for (let n = 0; n < POLICIES; n++) {
    const gp = randomPolicy(g);
    const requests = Array.from({ length: REQUESTS }, () => randomRequest(g));
    const es = engines(gp.text);
    const errors = es[0]!.engine.diagnostics.filter((d) => d.severity === "error");
    // Consts fold at load: one the reference cannot evaluate must be a load error (docs/language.md, const).
    const badConst = [...gp.policy.consts].find(([, node]) => evalNode(node, { input: null, now: NaN, store: STORE, consts: gp.policy.consts }) instanceof RErr);
    if (errors.length > 0) {
      rejected.push(`${errors[0]!.code} ${errors[0]!.message}`);
      continue;
    }
    if (badConst !== undefined) {
      constErrors.push(`policy ${n}: ${gp.text.split("\n").find((l) => l.startsWith(`const ${badConst[0]} `))}`);
      continue;
    }
    for (let r = 0; r < REQUESTS; r++) {
      const input = JSON.parse(requests[r]!) as Record<string, unknown>;
      const want = decide(gp.policy, input, CLOCK, STORE);
      for (const e of es) {
        const raw = e.run(input);
        // Fail closed, whatever the reference says: no allow or challenge from an errored rule, none past an errored deny rule.
        if (raw.decision !== "deny") {
          const errored = new Set(raw.errors.map((x) => x.rule));
          const denyErrored = gp.policy.rules.some((x) => x.effect === "deny" && errored.has(x.id));
          if (errored.has(raw.rule) || denyErrored || raw.reasons.some((x) => x.rule === null)) {
            t.fail(`${e.how}: ${raw.decision} despite errors (SPEC_DIFF_SEED=${SEED}, policy ${n}, request ${r}): ${JSON.stringify(raw.errors)}\n${gp.text}\n${requests[r]}`);
            return;
          }
        }
        const got = comparable(raw);
        if (same(got, want)) continue;
        const differs = (p: GeneratedPolicy, i: unknown) => {
          const x = engines(p.text).find((y) => y.how === e.how)!;
          return !same(comparable(x.run(i)), decide(p.policy, i, CLOCK, STORE));
        };
        const small = shrink(gp, input, differs);
        const smallGot = comparable(engines(small.p.text).find((y) => y.how === e.how)!.run(small.input));
        t.same(smallGot, decide(small.p.policy, small.input, CLOCK, STORE), `${e.how} differs from the spec reference (SPEC_DIFF_SEED=${SEED}, policy ${n}, request ${r}); shrunk:\n--- policy\n${small.p.text}\n--- input\n${JSON.stringify(small.input)}\n--- original input\n${requests[r]}`);
        return;
      }
      compared++;
      if (want.reasons[0]?.message === "invalid input") refused++;
      else if (want.errors.length > 0) errored++;
      outcomes.set(want.decision, (outcomes.get(want.decision) ?? 0) + 1);
    }
  }
  t.same(constErrors, [], "consts the reference cannot evaluate are load errors");
  t.pass(`${compared} requests decided alike three ways; ${rejected.length} of ${POLICIES} policies refused by the checker`);
  // The generator must exercise what it claims to.
  t.ok(rejected.length < POLICIES / 4, `the checker refuses few generated policies (${rejected.length}: ${[...new Set(rejected)].slice(0, 5).join("; ")})`);
  t.ok((outcomes.get("allow") ?? 0) > compared / 50, `allows: ${outcomes.get("allow")}`);
  t.ok((outcomes.get("challenge") ?? 0) > compared / 200, `challenges: ${outcomes.get("challenge")}`);
  t.ok((outcomes.get("deny") ?? 0) > compared / 10, `denies: ${outcomes.get("deny")}`);
  t.ok(errored > compared / 20, `decisions with errors: ${errored}`);
  t.ok(refused > 0 && refused < compared / 5, `refused inputs: ${refused}`);
});
