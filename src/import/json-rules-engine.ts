/**
 * Import a json-rules-engine (v7) rule set whose events are access decisions
 * into one `.policy` file.
 *
 * Source shapes: one rule object `{ conditions, event, priority?, name? }`,
 * an array of them, or `{ rules: [...] }`. A rule whose event type is
 * `allow`/`permit` becomes an `allow` rule, `deny`/`forbid` a `deny` rule;
 * json-rules-engine fires every rule whose conditions hold, and our engine
 * lets any applicable deny override, so the imported set decides exactly as
 * "deny if a deny rule fires, else allow if an allow rule fires, else deny".
 * Priorities (rule and condition) only order evaluation there, and no rule
 * read from JSON can stop the run or change facts, so they do not matter.
 *
 * Missing data (the reason for every guard below). json-rules-engine reads a
 * fact path with JSONPath and gets `undefined` when it is absent; its
 * operators then answer: equal, in, contains, doesNotContain and the four
 * comparisons false; notEqual and notIn TRUE (`undefined !== v`). Our
 * language makes reading an absent attribute an error (a deny rule that
 * errors denies), so each path is guarded with `has` (false also when a
 * parent is not an object, as JSONPath gives `undefined` there):
 *
 *   equal v             P and x == v
 *   notEqual v          not (P and x == v)
 *   in L / notIn L      P and x in L / not (P and x in L)
 *   contains v          P and x contains v
 *   doesNotContain v    P and not (x contains v)
 *   lessThan v ...      P and x < v
 *
 * where P is the presence test of x. With a fact reference `value: {fact,
 * path}` (presence Q, value y; S(v) "v is not a list or object", since ===
 * and indexOf compare those by reference): equal is `(P and Q and x == y
 * and S(x)) or (not P and not Q)` (undefined === undefined; always true for
 * the same path), in is `L and P and x in y and S(x)`, notIn is `L and not
 * (P and x in y and S(x))` (L: `y contains_all []`, an error unless y is a
 * list, where json-rules-engine throws), contains is `P and Q and x contains y and S(y)`,
 * doesNotContain is `P and x is a list and not (Q and S(y) and x contains
 * y)`, the rest `P and Q and x OP y`.
 *
 * Known differences, all where the data has an unexpected type (documented in
 * docs/cli.md): json-rules-engine coerces for `<` ("5" < 10, [5] < 10), and
 * answers false for a non-list `contains` or a null `<`; our engine makes a
 * type mismatch an evaluation error, which fails closed.
 */
import { format } from "../format/format.js";
import { escapeUnsafe } from "../diagnostics/escape-text.js";
import { ImportInputError, oneLine, type ImportProblem, type ImportResult } from "./report.js";
import { UniqueNames } from "./unique-names.js";

/** The facts an access input has; a dotted fact name starts with one of them. */
const ROOTS = new Set(["principal", "action", "resource", "context"]);
/** Facts holding objects (a path into `action`, a string, is not supported). */
const OBJECT_ROOTS = new Set(["principal", "resource", "context"]);

const ALLOW_EVENTS = new Set(["allow", "permit"]);
const DENY_EVENTS = new Set(["deny", "forbid"]);

const COMPARISONS: Record<string, string> = {
  lessThan: "<",
  lessThanInclusive: "<=",
  greaterThan: ">",
  greaterThanInclusive: ">=",
};
const OPERATORS = new Set([
  "equal",
  "notEqual",
  "in",
  "notIn",
  "contains",
  "doesNotContain",
  ...Object.keys(COMPARISONS),
]);

/** A rule that cannot be converted; caught per rule and reported. */
class Unconvertible extends Error {}

function fail(why: string): never {
  throw new Unconvertible(why);
}

/** A value from the input as JSON text for a reason: shortened, and never a throw (JSON.parse reads deeper than JSON.stringify writes). */
function shown(v: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    return "(a value nested too deeply to show)";
  }
  if (text === undefined) return String(v);
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}

// ---- policy expression text, with just enough precedence to parenthesise ----

const enum Prec {
  Or = 1,
  And = 2,
  Not = 3,
  Cmp = 4,
  Atom = 9,
}

interface Expr {
  text: string;
  prec: Prec;
}

const TRUE: Expr = { text: "true", prec: Prec.Atom };
const FALSE: Expr = { text: "false", prec: Prec.Atom };

function wrap(e: Expr, min: Prec): string {
  return e.prec >= min ? e.text : `(${e.text})`;
}

/** Longest run of one operator written flat; longer runs are split into parenthesised groups. */
const CHAIN = 32;

/**
 * `a or b or c ...` is one level deeper per operand in the parsed tree, and
 * the parser refuses a rule deeper than 1000 levels (SP1013): an `any` of
 * 1,000 conditions could not be imported, and 1,100 rules reading in/notIn
 * lists made the closing json-rules-engine-throws rule one such chain, so the
 * whole import failed ('the generated policy does not parse'). Groups of at
 * most CHAIN, nested, keep the depth logarithmic (as sigma/expr.ts does).
 */
function chain(texts: string[], sep: string): string {
  if (texts.length <= CHAIN) return texts.join(sep);
  const size = Math.ceil(texts.length / CHAIN);
  const groups: string[] = [];
  for (let k = 0; k < texts.length; k += size) groups.push(`(${chain(texts.slice(k, k + size), sep)})`);
  return groups.join(sep);
}

function and(parts: Expr[]): Expr {
  if (parts.some((p) => p === FALSE)) return FALSE;
  const rest = parts.filter((p) => p !== TRUE);
  if (rest.length === 0) return TRUE;
  if (rest.length === 1) return rest[0]!;
  return { text: chain(rest.map((p) => wrap(p, Prec.And)), " and "), prec: Prec.And };
}

function or(parts: Expr[]): Expr {
  if (parts.some((p) => p === TRUE)) return TRUE;
  const rest = parts.filter((p) => p !== FALSE);
  if (rest.length === 0) return FALSE;
  if (rest.length === 1) return rest[0]!;
  return { text: chain(rest.map((p) => wrap(p, Prec.Or)), " or "), prec: Prec.Or };
}

function not(e: Expr): Expr {
  if (e === TRUE) return FALSE;
  if (e === FALSE) return TRUE;
  return { text: `not ${wrap(e, Prec.Cmp)}`, prec: Prec.Not };
}

function binary(l: Expr, op: string, r: Expr): Expr {
  return { text: `${wrap(l, Prec.Atom)} ${op} ${wrap(r, Prec.Atom)}`, prec: Prec.Cmp };
}

// ---- attribute paths ----

/** An attribute path: a root name and the keys below it. */
interface AttrPath {
  root: string;
  keys: string[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function member(base: string, key: string): string {
  return IDENT.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function pathText(p: AttrPath, upTo = p.keys.length): string {
  let text = p.root;
  for (const key of p.keys.slice(0, upTo)) text = member(text, key);
  return text;
}

function access(p: AttrPath): Expr {
  return { text: pathText(p), prec: Prec.Atom };
}

/** True exactly where JSONPath finds the value: each parent an object holding the key. */
function present(p: AttrPath): Expr {
  return and(
    p.keys.map((key, i) => ({
      text: `${pathText(p, i)} has ${IDENT.test(key) ? key : JSON.stringify(key)}`,
      prec: Prec.Cmp,
    })),
  );
}

/**
 * The keys of a JSONPath: `$`, `$.a.b`, `$['x-y']`, `$["x-y"]`. Anything
 * else (wildcards, filters, indexes, recursive descent) selects something
 * our paths cannot. jsonpath-plus, which json-rules-engine uses, has no
 * escapes in quoted keys (`$['a\\'b']` reads the key `a\\'b`) and gives
 * meaning to many characters inside them (`,` a union, `;` `[` `]` key
 * boundaries, `^` parent, `~` key name, `(` a script, `` ` `` an escape,
 * `#0` and `%@%` its own markers, `..` descent), so a quoted key holding any
 * of those is refused rather than read as some other key.
 */
export function parseJsonPath(path: string): string[] {
  const odd: () => never = () => fail(`path ${JSON.stringify(path)} is not a plain \`$.a.b\` path`);
  if (!path.startsWith("$")) fail(`path ${JSON.stringify(path)} does not start with \`$\``);
  const keys: string[] = [];
  const re = /\.([A-Za-z_][A-Za-z0-9_-]*)|\['([^'"]*)'\]|\["([^'"]*)"\]/y;
  let i = 1;
  while (i < path.length) {
    re.lastIndex = i;
    const m = re.exec(path);
    if (m === null) odd();
    const key = m[1] ?? m[2] ?? m[3]!;
    if (m[1] === undefined && (/[\\[\]()$,:;^~`@*?#%]/.test(key) || key.includes("..") || key === "" || key === ".")) odd();
    keys.push(key);
    i = re.lastIndex;
  }
  return keys;
}

/**
 * JSONPath reads `length` and numbered keys of a list or a string too (the
 * list's length, an element); the policy's `has` is false there, so a rule
 * reading them would never match. Refused, as the value's type is unknown.
 */
function checkKey(key: string, path: string): void {
  if (key === "length") fail(`path ${JSON.stringify(path)} reads \`length\`, which JSONPath answers with the length of a list or string`);
  if (/^[0-9]+$/.test(key)) fail(`path ${JSON.stringify(path)} reads key \`${key}\`, which JSONPath answers with an element of a list or string`);
}

/** A fact (plus optional JSONPath) as an attribute path of the access input. */
function factPath(fact: unknown, path: unknown, params: unknown): AttrPath {
  if (typeof fact !== "string") fail("a fact name is not a string");
  if (params !== undefined) fail(`fact \`${fact}\` has params (facts computed from params have no equivalent)`);
  const [root, ...rest] = fact.split(".");
  if (!ROOTS.has(root!)) fail(`fact \`${fact}\` is not principal, action, resource or context (or a dotted path below one)`);
  if (rest.some((k) => k === "")) fail(`fact \`${fact}\` has an empty key`);
  if (path !== undefined && typeof path !== "string") fail(`fact \`${fact}\` has a path that is not a string`);
  // A path on a fact that is not an object answers the fact itself in
  // json-rules-engine; a dotted fact's value may be anything, the roots' are objects.
  if (rest.length > 0 && path && path !== "$") fail(`fact \`${fact}\` is read with a path (json-rules-engine reads the fact itself when it is not an object)`);
  const keys = [...rest, ...(path ? parseJsonPath(path) : [])];
  for (const key of keys) checkKey(key, `${fact}${path ?? ""}`);
  // JSONPath on a non-object fact answers the fact itself: not an attribute path.
  if (!OBJECT_ROOTS.has(root!) && keys.length > 0) fail(`fact \`${root}\` is a string; it has no path \`${fact}${path ?? ""}\``);
  return { root: root!, keys };
}

// ---- values ----

const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

function scalar(v: unknown, what: string): Expr {
  if (typeof v === "string") return { text: JSON.stringify(v), prec: Prec.Atom };
  if (typeof v === "boolean") return v ? TRUE : FALSE;
  if (typeof v === "number") {
    const text = String(v);
    if (!Number.isFinite(v) || !NUMBER.test(text)) fail(`${what} ${text} has no literal in the policy language`);
    // The language refuses such literals (SP1004): JSON.parse has already rounded them.
    if (Math.abs(v) > Number.MAX_SAFE_INTEGER) fail(`${what} ${text} is past 2^53 - 1, which the policy language cannot hold exactly`);
    return { text, prec: Prec.Atom };
  }
  if (v === null) fail(`${what} is null (the policy language has no null)`);
  fail(`${what} is ${Array.isArray(v) ? "a list" : "an object"}, which json-rules-engine compares by reference (never equal)`);
}

function literalList(v: unknown, op: string): Expr {
  if (!Array.isArray(v)) fail(`\`${op}\` needs a list value (json-rules-engine would search inside a string)`);
  const items = v.map((item) => scalar(item, `an item of the \`${op}\` list`));
  return { text: `[${items.map((i) => i.text).join(", ")}]`, prec: Prec.Atom };
}

/** `x` (present) is not a list or an object: === and indexOf compare those by reference. */
function scalarValue(x: Expr): Expr {
  return { text: `not (type(${x.text}) in ["list", "object"])`, prec: Prec.Not };
}

/** The lists read by in/notIn references of the rule being converted. */
let listsRead: Set<string> | undefined;

/** True for a list; an evaluation error for anything else, absent included. */
function listOrError(y: Expr): Expr {
  listsRead?.add(y.text);
  return { text: `${y.text} contains_all []`, prec: Prec.Cmp };
}

function isList(x: Expr): Expr {
  return { text: `type(${x.text}) == "list"`, prec: Prec.Cmp };
}

function isFactRef(v: unknown): v is { fact: unknown; path?: unknown; params?: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, "fact");
}

// ---- conditions ----

/**
 * How deep `all`/`any`/`not` may nest. json-rules-engine has no limit, but
 * each level can add a pair of parentheses and the language refuses nesting
 * past 200 (SP1013); a hostile file could also exhaust the stack.
 */
const MAX_CONDITION_DEPTH = 64;

function condition(c: unknown, depth = 0): Expr {
  if (depth > MAX_CONDITION_DEPTH) fail(`conditions nested deeper than ${MAX_CONDITION_DEPTH} levels`);
  if (typeof c !== "object" || c === null || Array.isArray(c)) fail("a condition is not an object");
  const o = c as Record<string, unknown>;
  const own = (k: string) => Object.prototype.hasOwnProperty.call(o, k);
  // json-rules-engine looks for the boolean operators in this order.
  if (own("any")) {
    // json-rules-engine answers true for an empty `any`, as for an empty `all`.
    const subs = subconditions(o["any"], "any", depth);
    return subs.length === 0 ? TRUE : or(subs);
  }
  if (own("all")) return and(subconditions(o["all"], "all", depth));
  if (own("not")) {
    if (Array.isArray(o["not"])) fail("`not` holds a list (json-rules-engine requires one condition)");
    return not(condition(o["not"], depth + 1));
  }
  if (own("condition")) fail(`condition reference ${shown(o["condition"])} (shared conditions are not in the file)`);
  if (!own("fact") || !own("operator") || !own("value")) fail("a condition lacks `fact`, `operator` or `value`");
  return leaf(o);
}

function subconditions(v: unknown, op: string, depth: number): Expr[] {
  if (!Array.isArray(v)) fail(`\`${op}\` is not a list`);
  return v.map((sub) => condition(sub, depth + 1));
}

function leaf(o: Record<string, unknown>): Expr {
  const op = o["operator"];
  if (typeof op !== "string" || !OPERATORS.has(op)) fail(`custom operator ${shown(op)}`);
  const xPath = factPath(o["fact"], o["path"], o["params"]);
  const x = access(xPath);
  const p = present(xPath);
  const value = o["value"];

  if (isFactRef(value)) {
    const yPath = factPath(value.fact, value.path, value.params);
    const y = access(yPath);
    const q = present(yPath);
    // json-rules-engine compares with === and indexOf: a list or object is
    // equal only to itself (the same path), never to an equal-looking copy,
    // which our == would match. The type test comes after the operator, so
    // that a list or object where json-rules-engine coerces (indexOf on a
    // string) is still our evaluation error, failing closed, not an answer.
    const same = x.text === y.text;
    const equal = same ? TRUE : or([and([p, q, binary(x, "==", y), scalarValue(x)]), and([not(p), not(q)])]);
    switch (op) {
      case "equal":
        return equal;
      case "notEqual":
        return not(equal);
      // json-rules-engine throws (the run decides nothing) when the list is
      // missing or not a list: here that is an evaluation error, so a deny
      // rule denies and an allow rule does not grant, however it is negated.
      case "in":
        return and([listOrError(y), p, binary(x, "in", y), scalarValue(x)]);
      case "notIn":
        return and([listOrError(y), not(and([p, binary(x, "in", y), scalarValue(x)]))]);
      case "contains":
        return and([p, q, binary(x, "contains", y), scalarValue(y)]);
      case "doesNotContain":
        // The list test keeps json-rules-engine's answer (false) for a non-list
        // that the short-circuit would otherwise turn into true.
        return and([p, isList(x), not(and([q, scalarValue(y), binary(x, "contains", y)]))]);
      default:
        return and([p, q, binary(x, COMPARISONS[op]!, y)]);
    }
  }

  switch (op) {
    case "equal":
      return and([p, binary(x, "==", scalar(value, "the value"))]);
    case "notEqual":
      return not(and([p, binary(x, "==", scalar(value, "the value"))]));
    case "in":
      return and([p, binary(x, "in", literalList(value, op))]);
    case "notIn":
      return not(and([p, binary(x, "in", literalList(value, op))]));
    case "contains":
      return and([p, binary(x, "contains", scalar(value, "the value"))]);
    case "doesNotContain":
      return and([p, not(binary(x, "contains", scalar(value, "the value")))]);
    default:
      if (typeof value !== "number") fail(`\`${op}\` with a value that is not a number (json-rules-engine coerces it)`);
      return and([p, binary(x, COMPARISONS[op]!, scalar(value, "the value"))]);
  }
}

// ---- rules ----

/** The rule list of a parsed JSON document, or an ImportInputError. */
export function ruleList(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (typeof doc === "object" && doc !== null) {
    const o = doc as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(o, "rules")) {
      if (!Array.isArray(o["rules"])) throw new ImportInputError("`rules` is not a list");
      return o["rules"];
    }
    if (Object.prototype.hasOwnProperty.call(o, "conditions")) return [doc];
  }
  throw new ImportInputError("expected a rule object, a list of rules, or { \"rules\": [...] }");
}

/** rule.name, else event.params.id, else `rule-N` (N counts from 1). */
function ruleName(rule: unknown, index: number): string {
  if (typeof rule === "object" && rule !== null) {
    const r = rule as Record<string, unknown>;
    if (typeof r["name"] === "string" && r["name"] !== "") return r["name"];
    if (typeof r["name"] === "number") return String(r["name"]);
    const event = r["event"] as Record<string, unknown> | undefined;
    const params = typeof event === "object" && event !== null ? (event["params"] as Record<string, unknown> | undefined) : undefined;
    const id = typeof params === "object" && params !== null ? params["id"] : undefined;
    if (typeof id === "string" && id !== "") return id;
    if (typeof id === "number") return String(id);
  }
  return `rule-${index + 1}`;
}

function effect(rule: Record<string, unknown>): "allow" | "deny" {
  const event = rule["event"];
  if (typeof event !== "object" || event === null) fail("no `event` (json-rules-engine would fire type \"unknown\")");
  const type = (event as Record<string, unknown>)["type"];
  if (typeof type === "string" && ALLOW_EVENTS.has(type)) return "allow";
  if (typeof type === "string" && DENY_EVENTS.has(type)) return "deny";
  fail(`event type ${shown(type)} is not a decision (allow, permit, deny, forbid)`);
}

interface Converted {
  name: string;
  effect: "allow" | "deny";
  when: Expr;
  index: number;
  /** Lists read by in/notIn references: json-rules-engine throws when one is not a list. */
  lists: Set<string>;
}

function convertRule(rule: unknown, index: number, name: string): Converted {
  if (typeof rule !== "object" || rule === null || Array.isArray(rule)) fail("not a rule object");
  const r = rule as Record<string, unknown>;
  const kind = effect(r);
  const conds = r["conditions"];
  if (typeof conds !== "object" || conds === null || Array.isArray(conds)) fail("no `conditions` object");
  const own = (k: string) => Object.prototype.hasOwnProperty.call(conds, k);
  if (!["any", "all", "not", "condition"].some(own)) fail("`conditions` root holds none of all, any, not, condition");
  const lists = new Set<string>();
  listsRead = lists;
  let when: Expr;
  try {
    when = condition(conds);
  } finally {
    listsRead = undefined;
  }
  // A last guard: a condition the language refuses is this rule's problem, not the whole import's.
  const checked = format(`${kind} "r" {\n  when ${when.text}\n}\n`, "import.policy");
  const error = checked.internalError ?? checked.diagnostics.find((d) => d.severity === "error")?.message;
  if (error !== undefined) fail(`the converted condition is not valid policy text: ${error}`);
  return { name, effect: kind, when, index, lists };
}

export interface JsonRulesEngineSource {
  /** Shown in the header comment (e.g. the file name). */
  name: string;
  /** The parsed JSON document. */
  doc: unknown;
}

/**
 * Convert one or more json-rules-engine documents into one policy file.
 * Throws ImportInputError when a document is not a rule set at all.
 */
export function convertJsonRulesEngine(sources: JsonRulesEngineSource[]): ImportResult {
  const problems: ImportProblem[] = [];
  const rules: Converted[] = [];
  const names = new UniqueNames();
  for (const src of sources) {
    const list = ruleList(src.doc);
    list.forEach((rule, i) => {
      const name = ruleName(rule, i);
      try {
        rules.push(convertRule(rule, i, name));
      } catch (err) {
        if (!(err instanceof Unconvertible)) throw err;
        problems.push({ rule: name, reason: oneLine(err.message) });
      }
    });
  }
  const blocks = rules.map((r) => {
    // Rule ids must be unique; json-rules-engine allows repeated names.
    const name = names.take(r.name);
    const renamed = name === r.name ? "" : ` (renamed from ${JSON.stringify(r.name)})`;
    return `# json-rules-engine rule ${r.index + 1}${renamed}\n${r.effect} ${JSON.stringify(name)} {\n  when ${r.when.text}\n}\n`;
  });
  const header =
    // One line: a line break in a file name would end the comment and make the rest policy text.
    `# Imported from json-rules-engine: ${escapeUnsafe(sources.map((s) => s.name).join(", ").replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " "))}\n` +
    "# Decisions: deny if a deny rule applies, else allow if an allow rule applies, else deny.\n" +
    "# Each attribute is guarded with `has` so that missing data decides as json-rules-engine does.\n";
  // json-rules-engine evaluates every rule, and every condition of a group,
  // so an in/notIn whose list is missing or not a list throws and the run
  // decides nothing, whatever other rules say; the rule below errors then,
  // and a deny rule that errors denies.
  const lists = [...new Set(rules.flatMap((r) => [...r.lists]))];
  if (lists.length > 0) {
    const name = names.take("json-rules-engine-throws");
    blocks.push(
      `# json-rules-engine throws (no decision) when a list read by in/notIn is missing or not a list\n` +
        `deny ${JSON.stringify(name)} {\n  when not (${chain(lists.map((l) => `${l} contains_all []`), " and ")})\n}\n`,
    );
  }
  const text = `${header}\n${blocks.join("\n")}`;
  const formatted = format(text, "import.policy");
  if (formatted.internalError !== undefined || formatted.diagnostics.some((d) => d.severity === "error")) {
    throw new Error(`the generated policy does not parse: ${formatted.internalError ?? formatted.diagnostics[0]!.message}`);
  }
  return { policy: formatted.output, converted: rules.length, problems };
}
