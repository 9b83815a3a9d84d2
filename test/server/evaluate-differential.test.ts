/**
 * The spec differential (test/evaluator/spec-differential.test.ts) over
 * HTTP: generated policy files served by `serve`, generated requests sent as
 * the JSON text a client writes (1e400, -0, 2^53+1 as written), through
 * POST /v1/evaluate and /v1/evaluate/batch. Every answer must be the
 * in-process decision for JSON.parse of the same text, byte for byte after
 * serialization, and agree with the spec reference. An input whose `kind`
 * the envelope does not know is a 400 there (no decision), never an allow.
 *
 * SPEC_DIFF_SEED (default fixed, printed) and SPEC_DIFF_HTTP_REQUESTS
 * (default 300) tune it.
 */
import t from "tap";
import { compile, loadPolicies, MemoryRiskStore, type AccessDecision } from "../../src/index.js";
import { prng } from "../support/prng.js";
import { comparable, decide, type RefPolicy, type RefStore } from "../support/spec-reference.js";
import { CLOCK, Rand, randomPolicy, randomRequest } from "../support/spec-policy-gen.js";
import { call, policyDir, start } from "./harness.js";

const SEED = Number(process.env["SPEC_DIFF_SEED"] ?? 0x5bec0de);
const REQUESTS = Number(process.env["SPEC_DIFF_HTTP_REQUESTS"] ?? 300);
const FILES = 3;
/** The server's risk store starts empty; so does the reference's. */
const EMPTY: RefStore = { raises: [], quarantines: [] };

t.test(`served decisions are the library's and the spec reference's (SPEC_DIFF_SEED=${SEED})`, async (t) => {
  const g = new Rand(prng(SEED + 1));
  const files: Record<string, string> = {};
  const policy: RefPolicy = { consts: new Map(), rules: [] };
  // Files load in path order, so the reference's rules follow f0, f1, ... (one const table per package).
  for (let i = 0; files[`f${FILES - 1}.policy`] === undefined; ) {
    const gp = randomPolicy(g);
    const text = gp.text.replace(/^package p$/m, `package p${i}`);
    const alone = compile(text, { file: `f${i}.policy`, clock: () => CLOCK });
    if (alone.diagnostics.some((d) => d.severity === "error")) continue;
    // A file whose deny rules stop most requests would leave the others nothing to decide.
    const sample = Array.from({ length: 20 }, () => alone.evaluate(JSON.parse(randomRequest(g))) as AccessDecision);
    if (sample.filter((d) => d.decision === "deny" && d.rule !== null && d.reasons[0]?.effect === "deny").length > 10) continue;
    files[`f${i}.policy`] = text;
    const consts = new Map([...gp.policy.consts].map(([k, v]) => [k, v]));
    for (const r of gp.policy.rules) policy.rules.push({ ...r, id: r.id.replace(/^p\//, `p${i}/`), clauses: r.clauses });
    // Const names repeat across packages: each rule of this file reads this file's table.
    for (const [k, v] of consts) policy.consts.set(`${i}:${k}`, v);
    i++;
  }
  // One rule that grants reads, so some requests get past the random deny rules.
  files["f9.policy"] = 'package extra\n\nallow "reads" {\n  when action == "read"\n}\n';
  policy.rules.push({ id: "extra/reads", effect: "allow", clauses: [{ k: "when", e: { k: "bin", op: "==", l: { k: "root", name: "action" }, r: { k: "str", v: "read" } }, line: 4 }] });
  const dir = policyDir(t, files);
  const engine = await loadPolicies([dir], { clock: () => CLOCK, risk: new MemoryRiskStore() });
  t.same(engine.diagnostics, [], "the generated set loads");
  const { url, server } = await start(t, [dir], { clock: () => CLOCK });
  t.equal(server.version, engine.version);

  const texts = Array.from({ length: REQUESTS }, () => randomRequest(g));
  const known = (text: string) => {
    const k = (JSON.parse(text) as { kind?: unknown }).kind;
    return k === undefined || k === "access";
  };
  const want = (text: string) => JSON.parse(JSON.stringify(engine.evaluate(JSON.parse(text))));
  const batchTexts = texts.filter(known);
  const batch = await call(url, "/v1/evaluate/batch", { body: `{"inputs":[${batchTexts.join(",")}]}`, headers: { "content-type": "application/json" } });
  t.equal(batch.status, 200, "the batch is answered");
  let differs = 0;
  let decisions = 0;
  batchTexts.forEach((text, i) => {
    const got = batch.json.decisions[i];
    if (JSON.stringify(got) !== JSON.stringify(want(text)) && differs++ < 3) t.same(got, want(text), `batch item ${i} differs from evaluate() (SPEC_DIFF_SEED=${SEED})\n${text}`);
    decisions++;
  });
  for (const [i, text] of texts.entries()) {
    if (i % 5 !== 0 && known(text)) continue;
    const r = await call(url, "/v1/evaluate", { body: text, headers: { "content-type": "application/json" } });
    if (!known(text)) {
      t.equal(r.status, 400, `an unknown kind is refused by the envelope, no decision: ${text.slice(0, 40)}`);
      continue;
    }
    if (r.status !== 200 || JSON.stringify(r.json) !== JSON.stringify(want(text))) {
      if (differs++ < 3) t.same({ status: r.status, body: r.json }, { status: 200, body: want(text) }, `request ${i} differs from evaluate() (SPEC_DIFF_SEED=${SEED})\n${text}`);
    }
    decisions++;
  }
  t.equal(differs, 0, `${decisions} served decisions equal evaluate()'s`);

  // And the reference: rules of file i read the consts of package p{i}.
  let mismatches = 0;
  for (const text of batchTexts) {
    const input = JSON.parse(text) as unknown;
    const ref = decideAcrossPackages(policy, input);
    const got = comparable(engine.evaluate(input) as Parameters<typeof comparable>[0]);
    if (JSON.stringify(got) !== JSON.stringify(ref) && mismatches++ < 3) t.same(got, ref, `differs from the spec reference (SPEC_DIFF_SEED=${SEED})\n${text}`);
  }
  t.equal(mismatches, 0, "the served set decides as the spec reference does");
  const outcomes = new Set(batch.json.decisions.map((d: { decision: string }) => d.decision));
  t.ok(outcomes.has("allow") && outcomes.has("deny"), `the requests both open and close (${[...outcomes].join(", ")})`);
});

/** decide() over rules of several packages, each reading its own consts (stored as "i:name"). */
function decideAcrossPackages(policy: RefPolicy, input: unknown) {
  // Const names are package-local: rename each rule's const reads to its package's entries.
  const rename = (node: unknown, pkg: string): unknown => {
    if (Array.isArray(node)) return node.map((x) => rename(x, pkg));
    if (typeof node !== "object" || node === null) return node;
    const o = node as Record<string, unknown>;
    if (o["k"] === "const") return { k: "const", name: `${pkg}:${String(o["name"])}` };
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, rename(v, pkg)]));
  };
  const consts = new Map([...policy.consts].map(([k, v]) => [k, rename(v, k.split(":")[0]!) as typeof v]));
  const rules = policy.rules.map((r) => {
    const pkg = /^p(\d+)\//.exec(r.id)?.[1] ?? "extra";
    return { ...r, clauses: r.clauses.map((c) => rename(c, pkg) as typeof c) };
  });
  return decide({ consts, rules }, input, CLOCK, EMPTY);
}
