/**
 * The spec differential for encryption and mesh blocks: random well-typed
 * encryption and mesh policies (test/support/spec-block-gen.ts) and random
 * JSON inputs through the whole engine (parser, checker, const folding,
 * evaluate with and without explain) and through readings of spec sections
 * 5 and 6 that share no code with the engine
 * (test/support/spec-reference-encryption.ts, spec-reference-mesh.ts).
 * Every field those sections define must agree: required, cipher,
 * maxKeyAge, tee, aad, rules, compliant and each violation's rule and
 * requirement; decision, mesh, rule and reasons; and the rules and lines of
 * errors. Independently of the references, errors must fail closed: a
 * result with errors is never compliant, a decision with errors never
 * admits.
 *
 * SPEC_DIFF_SEED (default fixed, printed) and SPEC_DIFF_BLOCK_POLICIES
 * (default 250 of each kind, each with 12 inputs) tune it:
 * `SPEC_DIFF_BLOCK_POLICIES=20000 npx tap test/evaluator/spec-differential-blocks.test.ts`
 * for a long run. A failure prints the seed, the policy and the input.
 */
import t, { type Test } from "tap";
import { compile, type EncryptionResult, type MeshDecision } from "../../src/index.js";
import { prng } from "../support/prng.js";
import { evalNode, RErr, type Node } from "../support/spec-reference.js";
import { comparableEncryption, decideEncryptionRef } from "../support/spec-reference-encryption.js";
import { comparableMesh, decideMeshRef } from "../support/spec-reference-mesh.js";
import { CLOCK, Rand, STORE } from "../support/spec-policy-gen.js";
import { randomEncryptionInput, randomEncryptionPolicy, randomMeshInput, randomMeshPolicy } from "../support/spec-block-gen.js";
import { engineStore } from "../support/spec-store.js";

const SEED = Number(process.env["SPEC_DIFF_SEED"] ?? 0x5bec0de);
const POLICIES = Number(process.env["SPEC_DIFF_BLOCK_POLICIES"] ?? 250);
const INPUTS = 12;

/** A const the reference cannot evaluate: the engine must have refused it at load (docs/language.md, const). */
function badConst(consts: Map<string, Node>): string | undefined {
  return [...consts].find(([, node]) => evalNode(node, { input: null, now: NaN, store: STORE, consts }) instanceof RErr)?.[0];
}

interface Run<P> {
  kind: string;
  policy: (g: Rand) => { text: string; policy: P & { consts: Map<string, Node> } };
  input: (g: Rand, p: P) => string;
  /** The engine's answer and the reference's, comparable; a fail-closed problem, if any. */
  compare: (evaluate: (i: unknown) => unknown, p: P, input: unknown) => { got: unknown; want: unknown; unsafe: string | null };
  /** A label of the reference's answer, to check the generator reaches every outcome. */
  outcome: (want: never) => string;
}

/** The outcomes compared (and "compared": their number); null after a failure. */
function differential<P>(t: Test, run: Run<P>, seed: number): Map<string, number> | null {
  const g = new Rand(prng(seed));
  const rejected: string[] = [];
  const constErrors: string[] = [];
  const outcomes = new Map<string, number>();
  let compared = 0;
  for (let n = 0; n < POLICIES; n++) {
    const gp = run.policy(g);
    const inputs = Array.from({ length: INPUTS }, () => run.input(g, gp.policy));
    const engine = compile(gp.text, { file: "p.policy", clock: () => CLOCK, risk: engineStore() });
    const errors = engine.diagnostics.filter((d) => d.severity === "error");
    if (errors.length > 0) {
      rejected.push(`${errors[0]!.code} ${errors[0]!.message}`);
      continue;
    }
    const bad = badConst(gp.policy.consts);
    if (bad !== undefined) {
      constErrors.push(`policy ${n}: const ${bad}`);
      continue;
    }
    for (const [i, text] of inputs.entries()) {
      const input = JSON.parse(text) as unknown;
      for (const [how, evaluate] of [
        ["evaluate", (x: unknown) => engine.evaluate(x)],
        ["explain", (x: unknown) => engine.evaluate(x, { explain: true })],
      ] as const) {
        const { got, want, unsafe } = run.compare(evaluate, gp.policy, input);
        const where = `(SPEC_DIFF_SEED=${seed}, ${run.kind} policy ${n}, input ${i}, ${how})\n--- policy\n${gp.text}--- input\n${text}`;
        if (unsafe !== null) {
          t.fail(`${unsafe} ${where}`);
          return null;
        }
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          t.same(got, want, `the engine differs from the spec reference ${where}`);
          return null;
        }
      }
      compared++;
      const label = run.outcome(run.compare((x) => engine.evaluate(x), gp.policy, input).want as never);
      outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
    }
  }
  t.same(constErrors, [], "consts the reference cannot evaluate are load errors");
  t.pass(`${compared} ${run.kind} inputs decided alike; ${rejected.length} of ${POLICIES} policies refused by the checker`);
  t.ok(rejected.length < POLICIES / 5, `the checker refuses few generated policies (${rejected.length}: ${[...new Set(rejected)].slice(0, 5).join("; ")})`);
  outcomes.set("compared", compared);
  return outcomes;
}

t.test(`encryption results are the spec reference's (SPEC_DIFF_SEED=${SEED}, ${POLICIES} policies)`, async (t) => {
  const o = differential(
    t,
    {
      kind: "encryption",
      policy: (g) => randomEncryptionPolicy(g),
      input: randomEncryptionInput,
      compare: (evaluate, p, input) => {
        const raw = evaluate(input) as EncryptionResult;
        const unsafe = raw.errors.length > 0 && raw.compliant === true ? "compliant despite errors:" : null;
        return { got: comparableEncryption(raw), want: decideEncryptionRef(p, input, CLOCK, STORE), unsafe };
      },
      outcome: (want: ReturnType<typeof decideEncryptionRef>) => {
        if (want.errors[0] === "null@0" && want.rules.length === 0) return "refused";
        const parts = [want.compliant === undefined ? "requirements" : want.compliant ? "compliant" : "violations"];
        if (want.errors.length > 0) parts.push("errors");
        if (want.errors.length > 0 && want.cipher !== null && want.errors.some((e) => !e.startsWith("null"))) parts.push("errored rule");
        return parts.join("+");
      },
    },
    SEED,
  );
  if (o === null) return;
  const n = o.get("compared") ?? 0;
  const count = (k: string) => [...o].filter(([l]) => l.split("+").includes(k)).reduce((s, [, c]) => s + c, 0);
  t.ok(count("compliant") > n / 50, `compliant: ${count("compliant")}`);
  t.ok(count("violations") > n / 5, `with violations: ${count("violations")}`);
  t.ok(count("requirements") > n / 10, `requirements only: ${count("requirements")}`);
  t.ok(count("errors") > n / 20, `with errors: ${count("errors")}`);
  t.ok(count("refused") > 0 && count("refused") < n / 10, `refused inputs: ${count("refused")}`);
});

t.test(`mesh admissions are the spec reference's (SPEC_DIFF_SEED=${SEED}, ${POLICIES} policies)`, async (t) => {
  const o = differential(
    t,
    {
      kind: "mesh",
      policy: (g) => randomMeshPolicy(g),
      input: (g, p) => randomMeshInput(g, p.meshes.map((m) => m.id)),
      compare: (evaluate, p, input) => {
        const raw = evaluate(input) as MeshDecision;
        const unsafe = raw.errors.length > 0 && raw.decision !== "reject" ? "admitted despite errors:" : null;
        return { got: comparableMesh(raw), want: decideMeshRef(p, input, CLOCK, STORE), unsafe };
      },
      outcome: (want: ReturnType<typeof decideMeshRef>) => (want.rule === null ? "refused" : want.decision === "admit" ? "admit" : want.errors.length > 0 ? "errored" : want.reasons[0]!.message),
    },
    SEED + 1,
  );
  if (o === null) return;
  const n = o.get("compared") ?? 0;
  t.ok((o.get("admit") ?? 0) > n / 40, `admitted: ${o.get("admit")}`);
  t.ok((o.get("errored") ?? 0) > n / 20, `rejected on an error: ${o.get("errored")}`);
  t.ok((o.get("public key is not 32 bytes of base64") ?? 0) > n / 50, `bad keys: ${o.get("public key is not 32 bytes of base64")}`);
  t.ok((o.get("refused") ?? 0) > 0 && (o.get("refused") ?? 0) < n / 4, `refused inputs: ${o.get("refused")}`);
  t.ok([...o.keys()].some((k) => k.startsWith("WireGuard key")), "a key too old rejects");
});
