/**
 * The spec differential: random well-typed access policies and random JSON
 * requests through the whole engine (parser, checker, const folding,
 * generated code behind the rule index, closures, explain) and through
 * test/support/spec-reference.ts, a reading of spec/LANGUAGE.md that shares
 * no code with the engine (oracle.test.ts compares against
 * src/evaluator/reference.ts, which shares the engine's parsers, messages
 * and input checks). Decisions, deciding rules, reasons, obligations and
 * the rules and lines of errors must agree; a policy the checker refuses is
 * counted, and must be rare. A second test folds the generated consts with
 * the checker (src/checker/fold.ts) and the compiler: the values must agree.
 *
 * SPEC_DIFF_SEED (default fixed, printed) and SPEC_DIFF_POLICIES (default
 * 300, each with 12 requests) tune it: `SPEC_DIFF_POLICIES=20000 npx tap
 * test/evaluator/spec-differential.test.ts` for a long run. A failure
 * prints the seed, the policy and the request, shrunk to the rules and
 * request fields that still disagree.
 */
import t from "tap";
import { analyze, compile, SourceText, type AccessDecision, type Engine } from "../../src/index.js";
import { ConstTable } from "../../src/evaluator/compile.js";
import { Duration } from "../../src/evaluator/duration.js";
import { Ip } from "../../src/evaluator/cidr.js";
import { EvalError } from "../../src/evaluator/values.js";
import { DurationValue, IpValue } from "../../src/checker/values.js";
import { prng } from "../support/prng.js";
import { comparable, decide, evalNode, RErr, type RefDecision, type RefPolicy } from "../support/spec-reference.js";
import { CLOCK, Rand, STORE, randomPolicy, randomRequest, type GeneratedPolicy } from "../support/spec-policy-gen.js";
import { engineStore } from "../support/spec-store.js";

const SEED = Number(process.env["SPEC_DIFF_SEED"] ?? 0x5bec0de);
const POLICIES = Number(process.env["SPEC_DIFF_POLICIES"] ?? 300);
const REQUESTS = 12;

function engines(text: string): { how: string; run: (input: unknown) => AccessDecision; engine: Engine }[] {
  const generated = compile(text, { file: "p.policy", clock: () => CLOCK, risk: engineStore() });
  const closures = compile(text, { file: "p.policy", clock: () => CLOCK, risk: engineStore(), generate: false });
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

/** A folded value, the checker's or the evaluator's, in one form: IPs as family, network and prefix. */
function folded(v: unknown): unknown {
  if (v instanceof EvalError) return { error: true };
  if (v instanceof Duration || v instanceof DurationValue) return { ms: v.ms };
  if (v instanceof IpValue) {
    const hex = Array.from(v.bytes, (x) => x.toString(16).padStart(2, "0")).join("");
    return { ip: `${v.version}:${(BigInt(`0x${hex}`) >> BigInt(v.bytes.length * 8 - v.prefix)).toString(16)}/${v.prefix}` };
  }
  if (v instanceof Ip) {
    const w = v.v6 ? (BigInt(v.w0 >>> 0) << 96n) | (BigInt(v.w1 >>> 0) << 64n) | (BigInt(v.w2 >>> 0) << 32n) | BigInt(v.w3 >>> 0) : BigInt(v.w3 >>> 0);
    return { ip: `${v.v6 ? 6 : 4}:${(w >> BigInt((v.v6 ? 128 : 32) - v.prefix)).toString(16)}/${v.prefix}` };
  }
  if (typeof v === "number" && Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(folded);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, folded(x)]));
  return v;
}

// The checker folds consts with its own code (src/checker/fold.ts) to check types and for lint;
// evaluation folds them with the compiler's. A const both fold must have one value: they once
// disagreed on ip("::ffff:10.0.0.0/104") (IPv6 to the checker, 10.0.0.0/8 to evaluation), so
// lint called rules that apply "never applies".
t.test(`the checker folds consts to the values evaluation folds them to (SPEC_DIFF_SEED=${SEED})`, async (t) => {
  const g = new Rand(prng(SEED + 2));
  let compared = 0;
  for (let n = 0; n < POLICIES * 2; n++) {
    const gp = randomPolicy(g);
    const r = analyze([new SourceText("p.policy", gp.text)]);
    if (r.diagnostics.some((d) => d.severity === "error")) continue;
    const checked = r.checked.consts.get("p") ?? new Map();
    const table = new ConstTable(r.files);
    for (const [name, v] of checked) {
      compared++;
      const a = JSON.stringify(folded(v));
      const b = JSON.stringify(folded(table.value("p", name)));
      if (a !== b) {
        t.equal(a, b, `const ${name}: the checker's value, then evaluation's (SPEC_DIFF_SEED=${SEED}, policy ${n})\n${gp.text}`);
        return;
      }
    }
  }
  t.ok(compared > POLICIES, `${compared} consts folded alike`);
});
