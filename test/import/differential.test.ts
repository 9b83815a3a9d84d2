/**
 * Differential test: json-rules-engine itself against our compiled
 * translation of the same rules, on generated rule sets and fact sets.
 *
 * json-rules-engine is run as an access decider: deny if any deny-event rule
 * fires, else allow if any allow-event rule fires, else deny. Facts keep the
 * types the rules expect (lists where `contains` reads, numbers where `<`
 * reads) but leave attributes out freely, nest them, and put a string where
 * a parent object is expected: the translation must decide the same way on
 * every one, and without an evaluation error.
 *
 * SEED=n in the environment replays another seed; the seed is printed.
 */
import t from "tap";
import { Engine as JreEngine } from "json-rules-engine";
import { compile, convertJsonRulesEngine } from "../../src/index.js";
import { prng } from "../support/prng.js";

const SEED = Number(process.env["SEED"] ?? 20260101);
const RULE_SETS = 6;
const RULES_PER_SET = 7;
const FACT_SETS_PER_RULE_SET = 300;

const rand = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (p: number) => rand() < p;
const subset = <T>(xs: readonly T[]): T[] => xs.filter(() => chance(0.5));

// ---- the attributes facts may hold ----

type AttrType = "string" | "number" | "list" | "bool";
interface Attr {
  /** Keys from the input root, e.g. ["context", "geo", "country"]. */
  keys: string[];
  type: AttrType;
  domain: readonly (string | number | boolean)[];
  /** Probability that the attribute is left out. */
  missing: number;
  /** The ways a json-rules-engine condition may name it. */
  refs: { fact: string; path?: string }[];
}

const DEPTS = ["a", "b", "c"];
const IDS = ["u1", "u2", "u3"];
const LEVELS = [0, 1, 2, 3, 4];

const ATTRS: Record<string, Attr> = {
  roles: {
    keys: ["principal", "roles"],
    type: "list",
    domain: ["ops", "admin", "dev"],
    missing: 0.2,
    refs: [{ fact: "principal", path: "$.roles" }, { fact: "principal.roles" }],
  },
  pdept: {
    keys: ["principal", "dept"],
    type: "string",
    domain: DEPTS,
    missing: 0.25,
    refs: [{ fact: "principal", path: "$.dept" }, { fact: "principal.dept" }, { fact: "principal", path: "$['dept']" }],
  },
  plevel: { keys: ["principal", "level"], type: "number", domain: LEVELS, missing: 0.25, refs: [{ fact: "principal", path: "$.level" }] },
  mfa: { keys: ["principal", "mfa"], type: "bool", domain: [true, false], missing: 0.3, refs: [{ fact: "principal", path: "$.mfa" }] },
  pid: { keys: ["principal", "id"], type: "string", domain: IDS, missing: 0.2, refs: [{ fact: "principal", path: "$.id" }] },
  action: { keys: ["action"], type: "string", domain: ["read", "write", "delete"], missing: 0, refs: [{ fact: "action" }] },
  rtype: {
    keys: ["resource", "type"],
    type: "string",
    domain: ["doc", "node"],
    missing: 0.15,
    refs: [{ fact: "resource.type" }, { fact: "resource", path: "$.type" }],
  },
  env: { keys: ["resource", "env"], type: "string", domain: ["prod", "dev"], missing: 0.25, refs: [{ fact: "resource", path: "$.env" }] },
  rdept: { keys: ["resource", "dept"], type: "string", domain: DEPTS, missing: 0.25, refs: [{ fact: "resource", path: "$.dept" }] },
  rlevel: { keys: ["resource", "level"], type: "number", domain: LEVELS, missing: 0.25, refs: [{ fact: "resource", path: "$.level" }] },
  // Always present: json-rules-engine throws when the list of `in`/`notIn` is missing.
  owners: { keys: ["resource", "owners"], type: "list", domain: IDS, missing: 0, refs: [{ fact: "resource", path: "$.owners" }] },
  country: {
    keys: ["context", "geo", "country"],
    type: "string",
    domain: ["US", "FR", "XX"],
    missing: 0.2,
    refs: [{ fact: "context", path: "$.geo.country" }, { fact: "context", path: "$[\"geo\"].country" }],
  },
  risk: {
    keys: ["context", "risk-score"],
    type: "number",
    domain: [0, 25, 50, 75, 100],
    missing: 0.25,
    refs: [{ fact: "context", path: "$['risk-score']" }],
  },
};

/** Pairs of attributes a condition may compare through a `value: {fact, path}` reference. */
const REF_PAIRS: { x: string; y: string; ops: string[] }[] = [
  { x: "pdept", y: "rdept", ops: ["equal", "notEqual"] },
  { x: "plevel", y: "rlevel", ops: ["equal", "notEqual", "lessThan", "lessThanInclusive", "greaterThan", "greaterThanInclusive"] },
  { x: "pid", y: "owners", ops: ["in", "notIn"] },
  { x: "owners", y: "pid", ops: ["contains", "doesNotContain"] },
];

// ---- rule generation ----

function refOf(attr: Attr): { fact: string; path?: string } {
  return { ...pick(attr.refs) };
}

function literalFor(attr: Attr): string | number | boolean {
  // Now and then a value no fact holds.
  if (attr.type === "string" && chance(0.1)) return "zz";
  if (attr.type === "number" && chance(0.2)) return pick([-1, 2.5, 60]);
  return pick(attr.domain);
}

function leaf(): Record<string, unknown> {
  if (chance(0.3)) {
    const pair = pick(REF_PAIRS);
    const operator = pick(pair.ops);
    return { ...refOf(ATTRS[pair.x]!), operator, value: refOf(ATTRS[pair.y]!) };
  }
  const attr = pick(Object.values(ATTRS));
  const base = refOf(attr);
  let operator: string;
  let value: unknown;
  switch (attr.type) {
    case "list": {
      operator = pick(["contains", "doesNotContain"]);
      value = pick(attr.domain);
      break;
    }
    case "bool":
      operator = pick(["equal", "notEqual"]);
      value = pick([true, false]);
      break;
    case "string":
      operator = pick(["equal", "notEqual", "in", "notIn"]);
      value = operator === "in" || operator === "notIn" ? subset(attr.domain) : literalFor(attr);
      break;
    case "number":
      operator = pick(["equal", "notEqual", "in", "notIn", "lessThan", "lessThanInclusive", "greaterThan", "greaterThanInclusive"]);
      value = operator === "in" || operator === "notIn" ? subset(attr.domain) : literalFor(attr);
      break;
  }
  return { ...base, operator, value };
}

function conditionTree(depth: number): Record<string, unknown> {
  if (depth >= 3 || chance(0.35)) return leaf();
  const op = pick(["all", "any", "not"]);
  if (op === "not") return { not: conditionTree(depth + 1) };
  const n = chance(0.08) ? 0 : 1 + Math.floor(rand() * 3);
  return { [op]: Array.from({ length: n }, () => conditionTree(depth + 1)), priority: 1 + Math.floor(rand() * 3) };
}

function ruleSet(setIndex: number): Record<string, unknown>[] {
  return Array.from({ length: RULES_PER_SET }, (_, i) => {
    const type = pick(["allow", "allow", "permit", "deny", "forbid"]);
    const top = pick(["all", "any", "not"]);
    const conditions = top === "not" ? { not: conditionTree(1) } : { [top]: [conditionTree(1), conditionTree(1)] };
    const rule: Record<string, unknown> = { conditions, event: { type, params: { id: `s${setIndex}-r${i}` } } };
    if (chance(0.5)) rule["priority"] = 1 + Math.floor(rand() * 10);
    if (chance(0.3)) rule["name"] = `named-${setIndex}-${i}`;
    return rule;
  });
}

/**
 * Written by hand so that every operator, boolean form (empty ones too),
 * reference and dotted fact occurs whatever the seed.
 */
const FIXED_SET: Record<string, unknown>[] = [
  {
    name: "ops-read",
    conditions: {
      all: [
        { fact: "principal.roles", operator: "contains", value: "ops" },
        { fact: "action", operator: "in", value: ["read", "write"] },
        { fact: "resource", path: "$.level", operator: "lessThanInclusive", value: { fact: "principal", path: "$.level" } },
        { any: [] },
      ],
    },
    event: { type: "allow" },
  },
  {
    conditions: {
      any: [
        { fact: "context", path: "$['risk-score']", operator: "greaterThan", value: 50 },
        { not: { fact: "resource", path: "$.owners", operator: "contains", value: { fact: "principal", path: "$.id" } } },
      ],
    },
    event: { type: "deny", params: { id: "risky-or-not-owner" } },
  },
  {
    conditions: {
      all: [
        { fact: "resource.type", operator: "equal", value: "doc" },
        { fact: "principal", path: "$.dept", operator: "equal", value: { fact: "resource", path: "$.dept" } },
        { fact: "context", path: "$.geo.country", operator: "notIn", value: ["XX"] },
        { all: [] },
      ],
    },
    event: { type: "permit" },
  },
  {
    priority: 5,
    conditions: {
      not: {
        any: [
          { fact: "principal", path: "$.level", operator: "greaterThanInclusive", value: 1 },
          { fact: "resource", path: "$.env", operator: "notEqual", value: "prod" },
          { fact: "principal", path: "$.id", operator: "in", value: { fact: "resource", path: "$.owners" } },
        ],
      },
    },
    event: { type: "forbid" },
  },
  {
    conditions: {
      all: [
        { fact: "principal", path: "$.roles", operator: "doesNotContain", value: "dev" },
        { fact: "context", path: "$['risk-score']", operator: "lessThan", value: 25 },
        { fact: "principal", path: "$.id", operator: "notIn", value: { fact: "resource", path: "$.owners" } },
        { fact: "principal", path: "$.mfa", operator: "equal", value: true },
      ],
    },
    event: { type: "allow", params: { id: "mfa-low-risk" } },
  },
];

/** What a rule set exercises: operators, boolean forms, references, dotted facts. */
function coverage(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) coverage(n, into);
  } else if (typeof node === "object" && node !== null) {
    const o = node as Record<string, unknown>;
    if ("conditions" in o) return coverage(o["conditions"], into);
    for (const op of ["all", "any", "not"]) {
      if (!(op in o)) continue;
      into.add(op);
      if (Array.isArray(o[op]) && (o[op] as unknown[]).length === 0) into.add(`empty ${op}`);
      coverage(o[op], into);
    }
    if (typeof o["operator"] === "string") {
      into.add(o["operator"]);
      if (String(o["fact"]).includes(".")) into.add("dotted fact");
      if (typeof o["value"] === "object" && o["value"] !== null && "fact" in o["value"]) into.add("reference");
    }
  }
  return into;
}

// ---- fact generation ----

function setPath(obj: Record<string, unknown>, keys: string[], value: unknown): void {
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== "object" || cur[k] === null) {
      if (k in cur) return; // a non-object parent stays, and hides the attribute
      cur[k] = {};
    }
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

interface AccessInput {
  principal: Record<string, unknown>;
  action: string;
  resource: Record<string, unknown>;
  context: Record<string, unknown>;
}

function factSet(): AccessInput {
  const input: Record<string, unknown> = { principal: {}, resource: {}, context: {} };
  if (chance(0.1)) (input["context"] as Record<string, unknown>)["geo"] = "unknown";
  for (const attr of Object.values(ATTRS)) {
    if (chance(attr.missing)) continue;
    const value = attr.type === "list" ? subset(attr.domain) : pick(attr.domain);
    if (attr.keys.length === 1) input[attr.keys[0]!] = value;
    else setPath(input[attr.keys[0]!] as Record<string, unknown>, attr.keys.slice(1), value);
  }
  return input as unknown as AccessInput;
}

/** The runtime facts json-rules-engine gets: the four roots plus every dotted fact name. */
function jreFacts(input: AccessInput): Record<string, unknown> {
  const facts: Record<string, unknown> = { ...input };
  for (const attr of Object.values(ATTRS)) {
    for (const ref of attr.refs) {
      if (!ref.fact.includes(".")) continue;
      let v: unknown = input;
      for (const k of ref.fact.split(".")) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
      facts[ref.fact] = v;
    }
  }
  return facts;
}

const WANT_COVERED = [
  "all", "any", "not", "empty all", "empty any", "reference", "dotted fact",
  "equal", "notEqual", "lessThan", "lessThanInclusive", "greaterThan", "greaterThanInclusive",
  "in", "notIn", "contains", "doesNotContain",
];

const DENY_TYPES = new Set(["deny", "forbid"]);

async function jreDecision(engine: JreEngine, input: AccessInput): Promise<"allow" | "deny"> {
  const { events } = await engine.run(jreFacts(input));
  if (events.some((e) => DENY_TYPES.has(e.type))) return "deny";
  return events.length > 0 ? "allow" : "deny";
}

t.test(`json-rules-engine and the imported policy decide alike (seed ${SEED})`, async (t) => {
  t.comment(`seed ${SEED} (set SEED=n to replay another)`);
  let compared = 0;
  const tally = { allow: 0, deny: 0 };
  const covered = coverage(FIXED_SET, new Set());
  t.same(WANT_COVERED.filter((w) => !covered.has(w)), [], "the fixed rule set covers every form");
  const sets = [FIXED_SET, ...Array.from({ length: RULE_SETS }, (_, s) => ruleSet(s + 1))];
  for (let s = 0; s < sets.length; s++) {
    const rules = sets[s]!;
    coverage(rules, covered);
    const imported = convertJsonRulesEngine([{ name: `set-${s}.json`, doc: rules }]);
    t.same(imported.problems, [], `rule set ${s} converts completely`);
    t.equal(imported.converted, rules.length);
    const ours = compile(imported.policy, { file: `set-${s}.policy` });
    t.same(
      ours.diagnostics.filter((d) => d.severity === "error"),
      [],
      `rule set ${s} compiles without errors`,
    );

    const jre = new JreEngine(rules as never);
    const mismatches: string[] = [];
    for (let f = 0; f < FACT_SETS_PER_RULE_SET; f++) {
      const input = factSet();
      const expected = await jreDecision(jre, input);
      const got = ours.evaluateAccess(input);
      compared++;
      tally[expected]++;
      if (got.decision !== expected || got.errors.length > 0) {
        mismatches.push(
          `facts ${JSON.stringify(input)}: json-rules-engine ${expected}, ours ${got.decision}` +
            (got.errors.length > 0 ? ` with errors ${JSON.stringify(got.errors)}` : ""),
        );
      }
    }
    t.same(mismatches.slice(0, 3), [], `rule set ${s}: ${mismatches.length} mismatches`, {
      rules: JSON.stringify(rules),
      policy: imported.policy,
    });
  }
  t.ok(compared >= 1000, `${compared} fact sets compared`);
  // Not vacuous: both decisions occur often.
  t.ok(tally.allow >= compared / 50 && tally.deny >= compared / 50, `decisions ${JSON.stringify(tally)}`);
  // The generated sets exercise the same forms in random combinations.
  t.same(WANT_COVERED.filter((w) => !coverage(sets.slice(1), new Set()).has(w) && !w.startsWith("empty")), [], "generated sets use every form");
});
