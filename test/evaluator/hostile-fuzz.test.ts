/**
 * Fuzzing evaluate() with hostile JavaScript values: every input of the
 * example policies' tests (access, encryption, mesh), with one node replaced
 * by what a JavaScript caller can pass and JSON cannot (NaN, Infinity, -0,
 * BigInt, Symbol, functions, Dates, Maps, Proxies whose traps throw,
 * null-prototype and frozen copies, own `__proto__` keys, lone surrogates,
 * huge strings and lists, nesting 20,000 deep). Required, for the engine with
 * its schemas and without (so the rules see the values):
 * - evaluate never throws, and the decision serialises;
 * - a transparent change (a null-prototype copy, a forwarding Proxy, a
 *   frozen object) decides as the original did;
 * - a throwing Proxy or an own `__proto__` key never opens what the original
 *   closed (allow, admit, challenge, compliant);
 * - any other value grants nothing some JSON value in its place would not;
 * - the input is not mutated, Object.prototype is not polluted, and the
 *   original input decides the same afterwards (no state carried over).
 *
 * FUZZ_CASES (default 5000 per engine) and FUZZ_SEED (default fixed,
 * printed) tune it; a failure names the seed, the case, the value and where.
 */
import t from "tap";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { loadPolicies, runPolicyTests, type AccessDecision, type Decision, type Engine, type MeshDecision } from "../../src/index.js";
import { prng } from "../support/prng.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CASES = Number(process.env.FUZZ_CASES ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x4057113);

type Path = (string | number)[];
type Expect = "same" | "closed" | "standin";

const verdict = (d: Decision): string => {
  if ("compliant" in d) return d.compliant ? "compliant" : "not-compliant";
  return (d as AccessDecision | MeshDecision).decision;
};
const opens = (v: string) => v === "allow" || v === "admit" || v === "compliant" || v === "challenge";

function paths(v: unknown, p: Path = [], out: Path[] = []): Path[] {
  out.push(p);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...p, i], out));
  else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...p, k], out);
  return out;
}

const boom = (): never => {
  throw new Error("hostile");
};
const isPlainObject = (o: unknown): o is Record<string, unknown> => o !== null && typeof o === "object" && !Array.isArray(o);
const nest = (wrap: (v: unknown) => unknown): unknown => {
  let v: unknown = "x";
  for (let i = 0; i < 20_000; i++) v = wrap(v);
  return v;
};

/** [name, the value put in place of the original, what is required]; `mutable` values cannot be compared after. */
const HOSTILE: { name: string; make: (orig: unknown) => unknown; expect: Expect; comparable: boolean }[] = [
  { name: "NaN", make: () => NaN, expect: "standin", comparable: true },
  { name: "Infinity", make: () => Infinity, expect: "standin", comparable: true },
  { name: "-Infinity", make: () => -Infinity, expect: "standin", comparable: true },
  { name: "-0", make: () => -0, expect: "standin", comparable: true },
  { name: "BigInt", make: () => 10n, expect: "standin", comparable: true },
  { name: "Symbol", make: () => Symbol("s"), expect: "standin", comparable: false },
  { name: "function", make: () => () => 1, expect: "standin", comparable: false },
  { name: "Date", make: () => new Date(0), expect: "standin", comparable: true },
  { name: "invalid Date", make: () => new Date(NaN), expect: "standin", comparable: false },
  { name: "Map", make: () => new Map([["a", 1]]), expect: "standin", comparable: true },
  { name: "RegExp", make: () => /x/, expect: "standin", comparable: true },
  { name: "undefined", make: () => undefined, expect: "standin", comparable: true },
  { name: "Uint8Array", make: () => new Uint8Array(3), expect: "standin", comparable: true },
  { name: "String object", make: (o) => new String(String(o)), expect: "standin", comparable: true },
  { name: "lone surrogate", make: (o) => (typeof o === "string" ? `${o}\ud800` : "\udc00"), expect: "standin", comparable: true },
  { name: "1 MiB string", make: () => "x".repeat(1 << 20), expect: "standin", comparable: false },
  { name: "200,000-element list", make: () => new Array(200_000).fill("admin"), expect: "standin", comparable: false },
  { name: "lists 20,000 deep", make: () => nest((v) => [v]), expect: "standin", comparable: false },
  { name: "objects 20,000 deep", make: () => nest((v) => ({ a: v })), expect: "standin", comparable: false },
  { name: "cyclic object", make: () => { const o: Record<string, unknown> = { a: "x" }; o["self"] = o; return o; }, expect: "standin", comparable: true },
  {
    name: "throwing Proxy",
    make: () => new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom }),
    expect: "closed",
    comparable: false,
  },
  {
    name: "own __proto__ key",
    make: (o) => (isPlainObject(o) ? Object.assign(JSON.parse('{"__proto__":{"roles":["admin"],"admin":true}}') as object, o) : o),
    expect: "closed",
    comparable: true,
  },
  { name: "null prototype", make: (o) => (isPlainObject(o) ? Object.assign(Object.create(null) as object, o) : o), expect: "same", comparable: true },
  { name: "forwarding Proxy", make: (o) => (o !== null && typeof o === "object" ? new Proxy(o, {}) : o), expect: "same", comparable: true },
  { name: "frozen", make: (o) => (o !== null && typeof o === "object" ? Object.freeze(o) : o), expect: "same", comparable: true },
];
/** JSON values a hostile one is measured against. */
const STANDINS: unknown[] = [undefined, null, 0, 1, -1, 1e308, -1e308, "", "x", true, false, [], {}];

function replaced(base: unknown, p: Path, make: (orig: unknown) => unknown): unknown {
  const copy = structuredClone(base);
  if (p.length === 0) return make(copy);
  let parent = copy as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = p.at(-1)!;
  const v = make(parent[last]);
  if (v === undefined && !Array.isArray(parent)) delete parent[last];
  else parent[last] = v;
  return copy;
}

/** The inputs the example policies' tests evaluate (access, encryption, mesh), captured as the test runner passes them. */
async function harvest(engine: Engine): Promise<unknown[]> {
  const inputs: unknown[] = [];
  runPolicyTests(engine.files, {
    evaluate: (input, options) => {
      inputs.push(structuredClone(input));
      return engine.evaluate(input, options);
    },
    refusal: (input) => engine.refusal(input),
  });
  return inputs;
}

for (const validateInput of [true, false]) {
  t.test(`evaluate survives ${CASES} hostile inputs (seed ${SEED}, schemas ${validateInput ? "on" : "off"})`, async (t) => {
    const engine = await loadPolicies([path.join(root, "policies")], { validateInput });
    t.same(engine.diagnostics.filter((d) => d.severity === "error"), [], "the example policies load");
    const seeds = await harvest(engine);
    t.ok(seeds.length > 50, `${seeds.length} inputs from the example policies' tests`);
    const kinds = new Set(seeds.map((s) => (s as { kind?: string }).kind ?? "access"));
    t.same([...kinds].sort(), ["access", "encryption", "mesh"]);
    const baseline = seeds.map((s) => verdict(engine.evaluate(s)));
    t.ok(baseline.some(opens) && baseline.some((v) => !opens(v)), "the inputs both open and close");

    const rnd = prng(SEED + (validateInput ? 0 : 1));
    const pick = (n: number) => Math.floor(rnd() * n);
    let failures = 0;
    const fail = (msg: string) => {
      failures++;
      t.fail(msg);
    };
    for (let n = 0; n < CASES && failures < 5; n++) {
      const i = pick(seeds.length);
      const base = seeds[i]!;
      const ps = paths(base);
      const p = ps[pick(ps.length)]!;
      const h = HOSTILE[pick(HOSTILE.length)]!;
      const where = `case ${n} (seed ${SEED}): ${h.name} at ${JSON.stringify(p)} of test input ${i}`;
      const input = replaced(base, p, h.make);
      const twin = h.comparable ? replaced(base, p, h.make) : null;
      let d: Decision;
      try {
        d = engine.evaluate(input, { explain: pick(4) === 0 });
      } catch (err) {
        fail(`${where}: threw ${(err as Error)?.stack ?? String(err)}`);
        continue;
      }
      const v = verdict(d);
      for (const key in Object.prototype) fail(`${where}: Object.prototype gained ${key}`);
      if (d.explain === undefined) {
        try {
          JSON.stringify(d);
        } catch (err) {
          fail(`${where}: the decision does not serialise: ${String(err)}`);
        }
      }
      if (twin !== null && !isDeepStrictEqual(input, twin)) fail(`${where}: the input was changed`);
      const orig = baseline[i]!;
      if (h.expect === "same" && v !== orig) fail(`${where}: decided ${v}, the original ${orig} (${JSON.stringify(d.errors)})`);
      else if (h.expect === "closed" && v !== orig && opens(v)) fail(`${where}: opened ${orig} to ${v}`);
      else if (h.expect === "standin" && v !== orig && opens(v)) {
        const alternatives = STANDINS.map((s) => verdict(engine.evaluate(replaced(base, p, () => s))));
        if (!alternatives.includes(v)) fail(`${where}: ${v} (original ${orig}), which no JSON value in its place gives (${alternatives.join(", ")})`);
      }
      const again = verdict(engine.evaluate(base));
      if (again !== orig) fail(`${where}: the original input now decides ${again}, before ${orig}`);
    }
    t.equal(failures, 0, `no failures in ${CASES} cases`);
  });
}

// Decisions share objects built once per rule (reasons, notApplied entries, spans): the shared ones are
// frozen, so a caller that edits its decision (say, rewriting span files to relative paths for display)
// cannot change the decisions of everyone after it. The spans were not frozen: such an edit rewrote the
// `file`, `line` and `column` of that rule's errors, notApplied entries and explain clauses everywhere.
t.test("a caller editing a decision changes no later decision", async (t) => {
  const engine = await loadPolicies([path.join(root, "policies")]);
  const inputs = await harvest(engine);
  inputs.push(null, { kind: "bogus" }, { kind: "mesh", node: 1 }, { principal: {}, action: "a", resource: {}, context: { mfa: { verified_at: 5 } } });
  for (const explain of [false, true]) {
    const before = inputs.map((i) => JSON.stringify(engine.evaluate(i, { explain })));
    const edit = (v: unknown, depth = 0): void => {
      if (v === null || typeof v !== "object" || depth > 8) return;
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        edit(o[k], depth + 1);
        try {
          if (typeof o[k] === "string") o[k] = "EDITED";
          else if (typeof o[k] === "number") o[k] = -1;
        } catch {
          // frozen: the caller learns it may not
        }
      }
      try {
        if (Array.isArray(v)) v.push("EDITED");
        else o["edited"] = true;
      } catch {
        // frozen
      }
    };
    for (const i of inputs) edit(engine.evaluate(i, { explain }));
    const after = inputs.map((i) => JSON.stringify(engine.evaluate(i, { explain })));
    const changed = inputs.map((_, k) => k).filter((k) => before[k] !== after[k]);
    t.same(changed, [], `explain ${explain}: every decision as before the edits`);
  }
});
