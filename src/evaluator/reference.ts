/**
 * A deliberately simple tree-walking interpreter of access decisions, used
 * as an oracle: no index, no precompilation, no folding, no shared closures.
 * It walks the AST for every request and implements operators and decision
 * combining on its own; it shares with the compiled evaluator only the data
 * classes (Duration, Ip, Time), the IP/time/glob parsers, input checking and
 * the message texts (so errors can be compared word for word).
 *
 * test/evaluator/oracle.test.ts runs thousands of random policies and inputs
 * through both and requires identical decisions, rules, reasons,
 * obligations and errors. Slow by design; never used to serve decisions.
 */
import type { AccessRule, ConstDecl, Expr, PolicyFile } from "../parser/ast.js";
import { packageOf, ruleId } from "../parser/ast.js";
import { Duration } from "./duration.js";
import { Ip, parseIp } from "./cidr.js";
import { compileGlob, globMatch } from "./glob.js";
import { Time, hourOf, parseRfc3339, weekdayOf } from "./time.js";
import { exprText } from "./expr-text.js";
import { msg, reasonText, show } from "./messages.js";
import { decisionError, quotingError } from "./quoted-error.js";
import { checkInput } from "./input.js";
import type { RiskStore } from "./stores.js";
import { EMPTY_RISK_STORE } from "./stores.js";
import type { AccessDecision, DecisionError, MfaObligation, Reason } from "./decision.js";
import { EvalError, Special, typeName, type ErrorSpan, type Value } from "./values.js";

type R = Value | EvalError;

const ORDER = "two numbers, two durations or two times";
const ROOTS = ["principal", "action", "resource", "context"];

function at(e: { span: { file: string; line: number; column: number } }): ErrorSpan {
  return Object.freeze({ file: e.span.file, line: e.span.line, column: e.span.column });
}

function plainObject(v: unknown): v is Record<string, Value> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Special);
}

function readOwn(o: Record<string, Value>, k: string): Value | undefined {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** Equality, written out case by case. */
function same(a: unknown, b: unknown): boolean {
  if (a instanceof Time || b instanceof Time) {
    const x = a instanceof Time ? a : b;
    const y = a instanceof Time ? b : a;
    if (y instanceof Time) return y.ms === (x as Time).ms;
    if (typeof y === "string") return parseRfc3339(y) === (x as Time).ms;
    if (typeof y === "number") return y * 1000 === (x as Time).ms;
    return false;
  }
  if (a instanceof Duration) return b instanceof Duration && a.ms === b.ms;
  if (a instanceof Ip) return b instanceof Ip && a.toString() === b.toString();
  if (b instanceof Duration || b instanceof Ip) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (plainObject(a)) {
    if (!plainObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined).sort();
    const kb = Object.keys(b).filter((k) => b[k] !== undefined).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k]));
  }
  return a === b && !(typeof a === "number" && !Number.isFinite(a));
}

function instantOf(v: unknown): number {
  if (v instanceof Time) return v.ms;
  if (typeof v === "string") return parseRfc3339(v);
  if (typeof v === "number") return Number.isFinite(v) && Math.abs(v * 1000) <= 8.64e15 ? v * 1000 : NaN;
  return NaN;
}

export interface ReferenceOptions {
  clock?: () => number;
  risk?: RiskStore;
}

class Interp {
  private nowMs: number | null = null;
  constructor(
    private readonly consts: Map<string, Map<string, ConstDecl>>,
    private readonly pkg: string,
    private readonly input: Record<string, Value>,
    private readonly timeMs: number,
    private readonly clock: () => number,
    private readonly risk: RiskStore,
  ) {}

  now(): number {
    if (this.nowMs === null) {
      const t = Number.isNaN(this.timeMs) ? this.clock() : this.timeMs;
      this.nowMs = Number.isFinite(t) && Math.abs(t) <= 8.64e15 ? t : NaN;
    }
    return this.nowMs;
  }

  constIn(pkg: string, name: string, seen: Set<ConstDecl>): R | undefined {
    const decl = this.consts.get(pkg)?.get(name);
    if (decl === undefined) return undefined;
    if (seen.has(decl)) return new EvalError(`const \`${name}\` depends on itself`, at({ span: decl.nameSpan }));
    seen.add(decl);
    const sub = new Interp(this.consts, pkg, {}, NaN, () => NaN, EMPTY_RISK_STORE);
    const v = sub.eval(decl.value, false, seen);
    seen.delete(decl);
    return v;
  }

  eval(e: Expr, inputs = true, seen: Set<ConstDecl> = new Set()): R {
    const ev = (x: Expr) => this.eval(x, inputs, seen);
    switch (e.kind) {
      case "String":
      case "Number":
      case "Bool":
        return e.value;
      case "Duration":
        return new Duration(e.ms, e.raw);
      case "Paren":
        return ev(e.expr);
      case "List": {
        const out: Value[] = [];
        for (const i of e.items) {
          const v = ev(i);
          if (v instanceof EvalError) return v;
          out.push(v);
        }
        return out;
      }
      case "Object": {
        const pairs: [string, Value][] = [];
        for (const en of e.entries) {
          const v = ev(en.value);
          if (v instanceof EvalError) return v;
          pairs.push([en.key, v]);
        }
        return Object.fromEntries(pairs) as Record<string, Value>;
      }
      case "Name": {
        if (inputs && e.name === "now") {
          const n = this.now();
          return Number.isNaN(n) ? new EvalError(msg.nowUnavailable(), null) : new Time(n);
        }
        if (inputs && ROOTS.includes(e.name)) {
          const v = readOwn(this.input, e.name);
          return v === undefined ? new EvalError(msg.missingAttribute(e.name), at(e), true) : v;
        }
        const k = this.constIn(this.pkg, e.name, seen);
        if (k !== undefined) return k;
        return new EvalError(msg.unknownName(e.name), at(e));
      }
      case "Member": {
        const o = ev(e.object);
        if (o instanceof EvalError) return o;
        if (o === null) return new EvalError(msg.missingAttribute(exprText(e)), at(e), true);
        if (!plainObject(o)) return new EvalError(msg.notAnObject(e.property, exprText(e.object), typeName(o)), at(e));
        const v = readOwn(o, e.property);
        return v === undefined ? new EvalError(msg.missingAttribute(exprText(e)), at(e), true) : v;
      }
      case "Index": {
        const o = ev(e.object);
        if (o instanceof EvalError) return o;
        const i = ev(e.index);
        if (i instanceof EvalError) return i;
        const missing = () => new EvalError(msg.missingAttribute(exprText(e)), at(e), true);
        if (o === null) return missing();
        if (Array.isArray(o) && typeof i === "number" && Number.isInteger(i)) {
          const v = i >= 0 && i < o.length ? o[i] : undefined;
          return v === undefined ? missing() : v;
        }
        if (plainObject(o) && typeof i === "string") {
          const v = readOwn(o, i);
          return v === undefined ? missing() : v;
        }
        return new EvalError(msg.badIndex(exprText(e.object), typeName(o), typeName(i)), at(e));
      }
      case "Has": {
        const o = ev(e.object);
        if (o instanceof EvalError) return o;
        return plainObject(o) && readOwn(o, e.name) !== undefined;
      }
      case "Call":
        return this.call(e, inputs, seen);
      case "Unary": {
        const v = ev(e.operand);
        if (v instanceof EvalError) return v;
        if (e.op === "not") return typeof v === "boolean" ? !v : new EvalError(msg.operand("not", "a boolean", typeName(v)), at(e));
        if (typeof v === "number") return -v;
        if (v instanceof Duration) return new Duration(-v.ms);
        return new EvalError(msg.operand("-", "a number or a duration", typeName(v)), at(e));
      }
      case "Binary":
        return this.binary(e, ev);
    }
  }

  private call(e: Extract<Expr, { kind: "Call" }>, inputs: boolean, seen: Set<ConstDecl>): R {
    const names = ["ip", "age", "size", "lower", "upper", "type", "hour", "weekday", "risk", "quarantined"];
    if (!names.includes(e.callee)) return new EvalError(msg.unknownFunction(e.callee), at({ span: e.calleeSpan }));
    if (e.args.length !== 1) return new EvalError(msg.arity(e.callee, 1, e.args.length), at(e));
    const x = this.eval(e.args[0]!, inputs, seen);
    if (x instanceof EvalError) return x;
    const span = at(e);
    const wrong = (expected: string) => new EvalError(msg.operand(e.callee, expected, typeName(x)), span);
    const needNow = (): number | EvalError => {
      const n = inputs ? this.now() : NaN;
      return Number.isNaN(n) ? new EvalError(msg.nowUnavailable(), span) : n;
    };
    switch (e.callee) {
      case "ip":
        if (typeof x !== "string") return wrong("a string");
        return parseIp(x) ?? quotingError(msg.invalidIp, JSON.stringify(x), span);
      case "size":
        if (typeof x === "string") return Array.from(x).length;
        if (Array.isArray(x)) return x.length;
        if (plainObject(x)) return Object.keys(x).filter((k) => x[k] !== undefined).length;
        return wrong("a list, a string or an object");
      case "lower":
        // Character by character, every sigma as σ (spec choice in docs/language.md).
        return typeof x === "string" ? Array.from(x, (c) => (c === "\u03a3" || c === "\u03c2" ? "\u03c3" : c.toLowerCase())).join("") : wrong("a string");
      case "upper":
        return typeof x === "string" ? x.toUpperCase() : wrong("a string");
      case "type":
        return typeName(x);
      case "age":
      case "hour":
      case "weekday": {
        const t = instantOf(x);
        if (Number.isNaN(t)) return quotingError((found) => msg.notATime(e.callee, found), show(x), span);
        if (e.callee === "hour") return hourOf(t);
        if (e.callee === "weekday") return weekdayOf(t);
        const n = needNow();
        return n instanceof EvalError ? n : new Duration(n - t);
      }
      case "risk":
      case "quarantined": {
        if (typeof x !== "string") return wrong("a string id");
        const n = needNow();
        if (n instanceof EvalError) return n;
        if (e.callee === "risk") {
          const r = this.risk.risk(x, n);
          return typeof r === "number" && Number.isFinite(r) ? r : new EvalError("the risk store answered something other than a number", span);
        }
        const q = this.risk.quarantined(x, n);
        return typeof q === "boolean" ? q : new EvalError("the quarantine store answered something other than a boolean", span);
      }
    }
    return new EvalError(msg.unknownFunction(e.callee), span);
  }

  private binary(e: Extract<Expr, { kind: "Binary" }>, ev: (x: Expr) => R): R {
    const span = at(e);
    if (e.op === "and" || e.op === "or") {
      const a = ev(e.left);
      if (a instanceof EvalError) return a;
      if (typeof a !== "boolean") return new EvalError(msg.operand(e.op, "booleans", typeName(a)), span);
      if (e.op === "and" && !a) return false;
      if (e.op === "or" && a) return true;
      const b = ev(e.right);
      if (b instanceof EvalError) return b;
      return typeof b === "boolean" ? b : new EvalError(msg.operand(e.op, "booleans", typeName(b)), span);
    }
    if (e.op === "??") {
      const a = ev(e.left);
      return a instanceof EvalError && a.missing ? ev(e.right) : a;
    }
    const a = ev(e.left);
    if (a instanceof EvalError) return a;
    const b = ev(e.right);
    if (b instanceof EvalError) return b;
    const two = (expected: string) => new EvalError(msg.operand(e.op, expected, typeName(a), typeName(b)), span);
    switch (e.op) {
      case "==":
        return same(a, b);
      case "!=":
        return !same(a, b);
      case "<":
      case "<=":
      case ">":
      case ">=": {
        let d: number;
        if (typeof a === "number" && typeof b === "number") d = a - b;
        else if (a instanceof Duration && b instanceof Duration) d = a.ms - b.ms;
        else if (a instanceof Time || b instanceof Time) {
          const ok = (v: Value) => v instanceof Time || typeof v === "string" || typeof v === "number";
          d = ok(a) && ok(b) ? instantOf(a) - instantOf(b) : NaN;
        } else if (typeof a === "string" && typeof b === "string") d = parseRfc3339(a) - parseRfc3339(b);
        else d = NaN;
        if (Number.isNaN(d)) return two(ORDER);
        return e.op === "<" ? d < 0 : e.op === "<=" ? d <= 0 : e.op === ">" ? d > 0 : d >= 0;
      }
      case "in": {
        const ipOf = (v: Value) => (v instanceof Ip ? v : typeof v === "string" && !v.includes("/") ? parseIp(v) : null);
        const notIp = () =>
          typeof a === "string"
            ? quotingError((found) => msg.notAnIp("in", found), JSON.stringify(a), span)
            : new EvalError(msg.operand("in", "an IP address on the left of an ip() range", typeName(a)), span);
        if (b instanceof Ip) {
          const x = ipOf(a);
          return x === null ? notIp() : b.contains(x);
        }
        if (!Array.isArray(b)) return new EvalError(msg.operand("in", "a list or an ip() range on the right", typeName(b)), span);
        if (b.some((x) => x instanceof Ip)) {
          const x = ipOf(a);
          if (x === null) return notIp();
          return b.some((el) => (el instanceof Ip ? el.contains(x) : same(a, el)));
        }
        return b.some((el) => same(a, el));
      }
      case "contains":
        if (!Array.isArray(a)) return new EvalError(msg.operand("contains", "a list on the left", typeName(a)), span);
        return a.some((el) => same(el, b));
      case "contains_any":
        if (!Array.isArray(a) || !Array.isArray(b)) return two("two lists");
        return b.some((x) => a.some((y) => same(y, x)));
      case "contains_all":
        if (!Array.isArray(a) || !Array.isArray(b)) return two("two lists");
        return b.every((x) => a.some((y) => same(y, x)));
      case "like":
      case "starts_with":
      case "ends_with":
      case "matches": {
        if (typeof a !== "string" || typeof b !== "string") return two("two strings");
        if (e.op === "like") return globMatch(compileGlob(b), a);
        if (e.op === "starts_with") return a.startsWith(b);
        if (e.op === "ends_with") return a.endsWith(b);
        try {
          return new RegExp(b, "u").test(a);
        } catch (err) {
          return quotingError(msg.badRegex, err instanceof Error ? err.message : String(err), span);
        }
      }
      case "+":
      case "-":
      case "*":
      case "/":
        return this.arith(e.op, a, b, span);
    }
    return new EvalError(`unknown operator \`${e.op}\``, span);
  }

  private arith(op: "+" | "-" | "*" | "/", a: Value, b: Value, span: ErrorSpan): R {
    const overflow = new EvalError(msg.overflow(op), span);
    const num = (n: number): R => (Number.isFinite(n) ? n : overflow);
    const dur = (n: number): R => (Number.isFinite(n) ? new Duration(n) : overflow);
    const tim = (n: number): R => (Number.isFinite(n) && Math.abs(n) <= 8.64e15 ? new Time(n) : overflow);
    const bad = (expected: string) => new EvalError(msg.operand(op, expected, typeName(a), typeName(b)), span);
    const isNum = (v: Value): v is number => typeof v === "number";
    if (op === "+") {
      if (isNum(a) && isNum(b)) return num(a + b);
      if (typeof a === "string" && typeof b === "string") return a + b;
      if (a instanceof Duration && b instanceof Duration) return dur(a.ms + b.ms);
      if (a instanceof Time && b instanceof Duration) return tim(a.ms + b.ms);
      if (a instanceof Duration && b instanceof Time) return tim(a.ms + b.ms);
      return bad("two numbers, two strings, two durations or a time and a duration");
    }
    if (op === "-") {
      if (isNum(a) && isNum(b)) return num(a - b);
      if (a instanceof Duration && b instanceof Duration) return dur(a.ms - b.ms);
      if (a instanceof Time && b instanceof Duration) return tim(a.ms - b.ms);
      if (a instanceof Time && b instanceof Time) return dur(a.ms - b.ms);
      return bad("two numbers, two durations, a time and a duration or two times");
    }
    if (op === "*") {
      if (isNum(a) && isNum(b)) return num(a * b);
      if (a instanceof Duration && isNum(b)) return dur(a.ms * b);
      if (isNum(a) && b instanceof Duration) return dur(a * b.ms);
      return bad("two numbers or a duration and a number");
    }
    if (isNum(b) && (isNum(a) || a instanceof Duration)) {
      if (b === 0) return new EvalError(msg.divisionByZero(), span);
      return isNum(a) ? num(a / b) : dur(a.ms / b);
    }
    return bad("two numbers or a duration and a number");
  }

  /** `require mfa [within D]`: true (met), false (unmet) or an error. */
  mfa(withinMs: number | null, span: ErrorSpan): boolean | EvalError {
    const ctx = readOwn(this.input, "context");
    if (ctx === undefined || ctx === null) return false;
    if (!plainObject(ctx)) return new EvalError(msg.notAnObject("mfa", "context", typeName(ctx)), span);
    const m = readOwn(ctx, "mfa");
    if (m === undefined || m === null) return false;
    if (!plainObject(m)) return new EvalError(msg.notAnObject("verified_at", "context.mfa", typeName(m)), span);
    const v = readOwn(m, "verified_at");
    if (v === undefined || v === null) return false;
    const t = instantOf(v);
    if (Number.isNaN(t)) return quotingError(msg.mfaTime, show(v), span);
    if (withinMs === null) return true;
    const n = this.now();
    if (Number.isNaN(n)) return new EvalError(msg.nowUnavailable(), span);
    return n - t <= withinMs;
  }
}

type RuleResult =
  | { kind: "na" }
  | { kind: "error"; error: EvalError }
  | { kind: "applies"; unmet: Reason[]; mfaOnly: boolean; obligation: MfaObligation | null };

function runRule(file: PolicyFile, rule: AccessRule, interp: Interp): RuleResult {
  const id = ruleId(file, rule);
  const unmet: Reason[] = [];
  let otherUnmet = false;
  let obligation: MfaObligation | null = null;
  for (const cl of rule.clauses) {
    if (cl.kind === "Tags") continue;
    if (cl.kind === "RequireMfa") {
      const r = interp.mfa(cl.within === null ? null : cl.within.ms, at(cl));
      if (r instanceof EvalError) return { kind: "error", error: r };
      if (!r) {
        obligation ??= { mfa: cl.within === null ? {} : { maxAge: cl.within.raw } };
        unmet.push({ rule: id, effect: "allow", message: reasonText.mfaRequired(cl.within?.raw ?? null) });
      }
      continue;
    }
    const v = interp.eval(cl.expr);
    const label = cl.kind === "When" ? "when" : cl.kind === "Unless" ? "unless" : "require";
    if (v instanceof EvalError) return { kind: "error", error: v };
    if (typeof v !== "boolean") return { kind: "error", error: new EvalError(msg.clauseNotBoolean(label, typeName(v)), at(cl.expr)) };
    if (cl.kind === "When" && !v) return { kind: "na" };
    if (cl.kind === "Unless" && v) return { kind: "na" };
    if (cl.kind === "Require" && !v) {
      otherUnmet = true;
      unmet.push({ rule: id, effect: "allow", message: cl.message?.value ?? reasonText.requireUnmet(exprText(cl.expr)) });
    }
  }
  return { kind: "applies", unmet, mfaOnly: !otherUnmet && unmet.length > 0, obligation };
}

/** The reference access decision for `raw` over `files` (version is echoed). */
export function referenceAccess(files: readonly PolicyFile[], raw: unknown, version: string, options: ReferenceOptions = {}): AccessDecision {
  const base = { version, notApplied: [] };
  const checked = checkInput(raw, null);
  if ("messages" in checked) {
    return {
      decision: "deny",
      rule: null,
      reasons: [{ rule: null, effect: "deny", message: reasonText.invalidInput }],
      obligations: [],
      errors: checked.messages.map((m) => (typeof m === "string" ? { rule: null, message: m, span: null } : decisionError(null, m))),
      ...base,
    };
  }
  const consts = new Map<string, Map<string, ConstDecl>>();
  for (const f of files) {
    const pkg = packageOf(f);
    if (!consts.has(pkg)) consts.set(pkg, new Map());
    for (const it of f.items) if (it.kind === "Const" && !consts.get(pkg)!.has(it.name)) consts.get(pkg)!.set(it.name, it);
  }
  const clock = options.clock ?? Date.now;
  const risk = options.risk ?? EMPTY_RISK_STORE;
  // One clock reading per decision, shared by every rule, as in the compiled path.
  let nowMs: number | null = null;
  const sharedClock = () => (nowMs ??= clock());
  const rules: { file: PolicyFile; rule: AccessRule }[] = [];
  for (const f of files) for (const it of f.items) if (it.kind === "AccessRule") rules.push({ file: f, rule: it });
  const interpFor = (f: PolicyFile) => new Interp(consts, packageOf(f), checked.input, checked.timeMs, sharedClock, risk);

  const errors: DecisionError[] = [];
  const denyReasons: Reason[] = [];
  let denyRule: string | null = null;
  for (const { file, rule } of rules) {
    if (rule.effect !== "deny") continue;
    const r = runRule(file, rule, interpFor(file));
    const id = ruleId(file, rule);
    if (r.kind === "na") continue;
    denyRule ??= id;
    if (r.kind === "error") {
      errors.push(decisionError(id, r.error));
      denyReasons.push({ rule: id, effect: "deny", message: reasonText.denyErrored });
    } else {
      denyReasons.push({ rule: id, effect: "deny", message: reasonText.denyApplies });
    }
  }
  if (denyRule !== null) return { decision: "deny", rule: denyRule, reasons: denyReasons, obligations: [], errors, ...base };

  const grants: Reason[] = [];
  const unmet: Reason[] = [];
  let firstGrant: string | null = null;
  let firstChallenge: string | null = null;
  let firstUnmet: string | null = null;
  let obligation: MfaObligation | null = null;
  for (const { file, rule } of rules) {
    if (rule.effect !== "allow") continue;
    const r = runRule(file, rule, interpFor(file));
    const id = ruleId(file, rule);
    if (r.kind === "na") continue;
    if (r.kind === "error") {
      errors.push(decisionError(id, r.error));
      continue;
    }
    if (r.unmet.length === 0) {
      firstGrant ??= id;
      grants.push({ rule: id, effect: "allow", message: reasonText.allowApplies });
      continue;
    }
    firstUnmet ??= id;
    unmet.push(...r.unmet);
    if (r.mfaOnly && firstChallenge === null) {
      firstChallenge = id;
      obligation = r.obligation;
    }
  }
  if (firstGrant !== null) return { decision: "allow", rule: firstGrant, reasons: grants, obligations: [], errors, ...base };
  if (firstChallenge !== null) return { decision: "challenge", rule: firstChallenge, reasons: unmet, obligations: [obligation!], errors, ...base };
  if (firstUnmet !== null) return { decision: "deny", rule: firstUnmet, reasons: unmet, obligations: [], errors, ...base };
  return { decision: "deny", rule: null, reasons: [{ rule: null, effect: "deny", message: reasonText.noRuleAllows }], obligations: [], errors, ...base };
}
