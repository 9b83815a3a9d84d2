/**
 * Access rules as generated JavaScript: the hot path of `evaluate()`.
 *
 * Why generate code: the closure compiler (compile-expr.ts) shares one
 * function body among every rule, so `o[prop]` with a captured `prop` is a
 * megamorphic keyed load and every node is an indirect call. A generated
 * function per rule has constant property names (`v["roles"]`) that V8
 * caches per site, and no calls between nodes. The benchmark says it pays
 * (several times faster on the shared workload).
 *
 * Semantics are the closure compiler's, node for node (same evaluation
 * order, same errors, same shared error objects); the oracle test checks
 * generated rules against the reference interpreter, and explain mode
 * (which uses the closures, to trace every clause) against it too.
 *
 * Safety: nothing from policy text becomes code except property and root
 * names, through JSON.stringify; every value (strings, numbers, lists, IPs,
 * durations, errors, reasons) is passed in the rule's constants array `k`
 * and referenced by index.
 *
 * Rules that differ only in constants share one function body ("shape"):
 * every constant, string and number literals included, lives in the rule's
 * own array `k`, and property names stay in the code. One source for the
 * whole set holds one factory per shape; each rule is the factory applied
 * to its `k`. A set of 10,000 rules written from a few templates compiles a
 * few dozen bodies, and V8 optimizes each body once for all its rules.
 *
 * Generated functions serve requests the index narrowed: the leading
 * literal tests the index has proven true for them are not evaluated again.
 */
import type { Expr } from "../parser/ast.js";
import { ClauseKind, checkMfa, RuleState, type CompiledAccessRule } from "./access.js";
import { ExprCompiler, indexValue, toErrorSpan } from "./compile-expr.js";
import type { EvalContext } from "./context.js";
import { ErrorSite, SiteKind } from "./error-site.js";
import { msg } from "./messages.js";
import { applyBinary, compareOp, compileRegex, containsOp, inOp, stringOp } from "./operators.js";
import { builtin } from "./builtins.js";
import { compileGlob, globMatch } from "./glob.js";
import { Duration } from "./duration.js";
import { Ip } from "./cidr.js";
import { EvalError, Special, deepEqual, isInheritedName, isObject, type ObjectValue, type Value } from "./values.js";

export type GeneratedRule = (c: EvalContext, st: RuleState) => number;

const hasOwn = Object.prototype.hasOwnProperty;

/** The helpers generated code calls (RT in the generated source). */
const RT = {
  applyBinary,
  compareOp,
  inOp,
  containsOp,
  stringOp,
  deepEqual,
  globMatch,
  checkMfa,
  isObject,
  indexValue,
  own(o: object, k: string): unknown {
    return hasOwn.call(o, k) ? (o as ObjectValue)[k] : undefined;
  },
  has(o: unknown, k: string): boolean {
    return isObject(o) && hasOwn.call(o, k) && o[k] !== undefined;
  },
  includes(list: unknown[], k: unknown): boolean {
    for (let i = 0; i < list.length; i++) {
      const x = list[i];
      if (x === k || (typeof x === "object" && x !== null && deepEqual(x, k))) return true;
    }
    return false;
  },
  neg(v: unknown, site: ErrorSite): unknown {
    if (typeof v === "number") return -v;
    if (v instanceof Duration) return new Duration(-v.ms);
    return site.typeError(v);
  },
  fromEntries(pairs: [string, Value][]): ObjectValue {
    return Object.fromEntries(pairs) as ObjectValue;
  },
};

/** A JSON object: what a path step may read an attribute of. */
function isJsonObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Special);
}

function isPrimitive(v: unknown): v is string | number | boolean {
  const t = typeof v;
  return t === "string" || t === "number" || t === "boolean";
}

const ORDER_OPS = new Set(["<", "<=", ">", ">="]);

/** Generates the functions of a whole rule set. */
export class AccessCodegen {
  /** Shape source -> shape number. */
  private readonly shapes = new Map<string, number>();
  private readonly shapeSources: string[] = [];
  /** Per rule: its shape and its constants. */
  private readonly rules: { shape: number; k: unknown[] }[] = [];
  private kk: unknown[] = [];
  private lines: string[] = [];
  private temps = 0;
  private labels = 0;
  private compiler!: ExprCompiler;
  private assumed: ReadonlySet<Expr> = new Set();
  /** Operands known to hold a boolean (so no type check is emitted for them). */
  private bools = new Set<string>();

  /**
   * A constant's reference in generated code. Not deduplicated: slots follow
   * the code, so rules of the same structure get the same code.
   */
  private k(v: unknown): string {
    this.kk.push(v);
    return `k[${this.kk.length - 1}]`;
  }

  private site(kind: SiteKind, node: Expr): string {
    return this.k(new ErrorSite(kind, node));
  }

  /** A value in code: booleans and null inline (they shape the code), the rest as constants. */
  private value(v: Value): string {
    return v === null || typeof v === "boolean" ? String(v) : this.k(v);
  }

  private emit(line: string): void {
    this.lines.push(line);
  }

  private tmp(): string {
    return `v${this.temps++}`;
  }

  /** A fresh temporary that will hold a boolean. */
  private boolTmp(): string {
    const v = this.tmp();
    this.bools.add(v);
    return v;
  }

  private fail(error: string, L: string): void {
    this.emit(`err = ${error}; break ${L};`);
  }

  /** `x` is an error: propagate it. */
  private check(x: string, L: string): void {
    this.emit(`if (${x} instanceof E) { err = ${x}; break ${L}; }`);
  }

  /**
   * Emit code computing `e`; returns a JS operand holding its (error-free)
   * value. Errors assign `err` and `break L`.
   */
  private gen(e: Expr, L: string): string {
    if (this.assumed.has(e)) return "true";
    const cc = this.compiler.constantOf(e);
    if (cc !== null) {
      if (cc.value instanceof EvalError) {
        this.fail(this.k(cc.value), L);
        return "undefined";
      }
      return this.value(cc.value);
    }
    switch (e.kind) {
      case "Paren":
        return this.gen(e.expr, L);
      case "Name":
        return this.name(e, L);
      case "Member":
      case "Index":
        return this.path(e, L) ?? (e.kind === "Member" ? this.member(e, L) : this.index(e, L));
      case "Has": {
        const o = this.gen(e.object, L);
        const v = this.boolTmp();
        this.emit(`${v} = RT.has(${o}, ${JSON.stringify(e.name)});`);
        return v;
      }
      case "Call":
        return this.call(e, L);
      case "Unary":
        return this.unary(e, L);
      case "Binary":
        return this.binary(e, L);
      case "List": {
        const items = e.items.map((i) => this.gen(i, L));
        const v = this.tmp();
        this.emit(`${v} = [${items.join(", ")}];`);
        return v;
      }
      case "Object": {
        const pairs = e.entries.map((en) => `[${JSON.stringify(en.key)}, ${this.gen(en.value, L)}]`);
        const v = this.tmp();
        this.emit(`${v} = RT.fromEntries([${pairs.join(", ")}]);`);
        return v;
      }
      default:
        // Literals are always constant; nothing else reaches here.
        this.fail(this.k(new EvalError(`cannot evaluate ${e.kind}`, toErrorSpan(e.span))), L);
        return "undefined";
    }
  }

  private name(e: Extract<Expr, { kind: "Name" }>, L: string): string {
    const v = this.tmp();
    if (e.name === "now") {
      this.emit(`${v} = c.nowValue();`);
      this.check(v, L);
      return v;
    }
    // A root (consts and unknown names are constants, handled by gen).
    const read = isInheritedName(e.name) ? `RT.own(input, ${JSON.stringify(e.name)})` : `input[${JSON.stringify(e.name)}]`;
    this.emit(`${v} = ${read}; if (${v} === undefined) { err = ${this.site(SiteKind.Root, e)}.missing(); break ${L}; }`);
    return v;
  }

  /** A path from an input root through `.name` / `["literal"]` steps; null when `e` is not one. */
  private path(e: Expr, L: string): string | null {
    const nodes: Expr[] = [];
    let cur: Expr = e;
    while (cur.kind === "Member" || (cur.kind === "Index" && cur.index.kind === "String")) {
      nodes.push(cur);
      cur = cur.object;
    }
    if (cur.kind !== "Name" || cur.name === "now") return null;
    // Only roots reach here non-constant; a const base would have folded.
    const v = this.name(cur, L);
    for (const n of nodes.reverse()) {
      const prop = n.kind === "Member" ? n.property : ((n as Extract<Expr, { kind: "Index" }>).index as { value: string }).value;
      const site = this.site(n.kind === "Member" ? SiteKind.Member : SiteKind.Index, n);
      const key = JSON.stringify(prop);
      const read = isInheritedName(prop) ? `RT.own(${v}, ${key})` : `${v}[${key}]`;
      // O(v): a JSON object (not null, a list, or a duration/IP/time).
      this.emit(`if (!O(${v})) { err = ${site}.bad(${v}); break ${L}; } ${v} = ${read}; if (${v} === undefined) { err = ${site}.missing(); break ${L}; }`);
    }
    return v;
  }

  private member(e: Extract<Expr, { kind: "Member" }>, L: string): string {
    const o = this.gen(e.object, L);
    const site = this.site(SiteKind.Member, e);
    const v = this.tmp();
    this.emit(`if (${o} === null) { err = ${site}.missing(); break ${L}; }`);
    this.emit(`if (!RT.isObject(${o})) { err = ${site}.typeError(${o}); break ${L}; }`);
    this.emit(`${v} = RT.own(${o}, ${JSON.stringify(e.property)});`);
    this.emit(`if (${v} === undefined) { err = ${site}.missing(); break ${L}; }`);
    return v;
  }

  private index(e: Extract<Expr, { kind: "Index" }>, L: string): string {
    const o = this.gen(e.object, L);
    const i = this.gen(e.index, L);
    const v = this.tmp();
    this.emit(`${v} = RT.indexValue(${o}, ${i}, ${this.site(SiteKind.Index, e)});`);
    this.check(v, L);
    return v;
  }

  private call(e: Extract<Expr, { kind: "Call" }>, L: string): string {
    // Unknown functions and wrong arity fold to constant errors in gen.
    const impl = builtin(e.callee)!;
    const a = this.gen(e.args[0]!, L);
    const v = this.tmp();
    this.emit(`${v} = ${this.k(impl)}.call(${a}, c, ${this.k(toErrorSpan(e.span))});`);
    this.check(v, L);
    return v;
  }

  private unary(e: Extract<Expr, { kind: "Unary" }>, L: string): string {
    const a = this.gen(e.operand, L);
    if (e.op === "not") {
      const v = this.boolTmp();
      if (this.bools.has(a)) this.emit(`${v} = !${a};`);
      else this.emit(`if (${a} === true) ${v} = false; else if (${a} === false) ${v} = true; else { err = ${this.site(SiteKind.Not, e)}.typeError(${a}); break ${L}; }`);
      return v;
    }
    const v = this.tmp();
    this.emit(`${v} = RT.neg(${a}, ${this.site(SiteKind.Neg, e)});`);
    this.check(v, L);
    return v;
  }

  /** `x` must be a boolean: the and/or operand check (none when x is known boolean). */
  private needBool(x: string, site: string, L: string): void {
    if (!this.bools.has(x)) this.emit(`if (${x} !== true && ${x} !== false) { err = ${site}.typeError(${x}); break ${L}; }`);
  }

  private binary(e: Extract<Expr, { kind: "Binary" }>, L: string): string {
    const op = e.op;
    if (op === "and" || op === "or") {
      const v = this.boolTmp();
      const site = this.site(op === "and" ? SiteKind.And : SiteKind.Or, e);
      const a = this.gen(e.left, L);
      this.needBool(a, site, L);
      // and: a false left side is the answer; or: a true one.
      this.emit(`if (${op === "and" ? `!${a}` : a}) ${v} = ${op === "or"}; else {`);
      const b = this.gen(e.right, L);
      this.needBool(b, site, L);
      this.emit(`${v} = ${b}; }`);
      return v;
    }
    if (op === "??") {
      const v = this.tmp();
      const Q = `Q${this.labels++}`;
      this.emit(`${Q}: {`);
      const a = this.gen(e.left, Q);
      this.emit(`${v} = ${a}; }`);
      this.emit(`if (err !== null) { if (!err.missing) break ${L}; err = null;`);
      const b = this.gen(e.right, L);
      this.emit(`${v} = ${b}; }`);
      if (this.bools.has(a) && this.bools.has(b)) this.bools.add(v);
      return v;
    }
    const span = toErrorSpan(e.span);
    const l = this.assumed.has(e.left) ? null : this.compiler.constantOf(e.left);
    const r = this.assumed.has(e.right) ? null : this.compiler.constantOf(e.right);
    // `==` is symmetric and a constant cannot error: put the constant on the right.
    if ((op === "==" || op === "!=") && l !== null && r === null && isPrimitive(l.value)) {
      return this.equalsConst(op, this.gen(e.right, L), l.value);
    }
    const a = this.gen(e.left, L);
    const kspan = this.k(span);
    const quoted = JSON.stringify(op);
    if (r !== null && !(r.value instanceof EvalError)) {
      const kv = r.value;
      if ((op === "==" || op === "!=") && isPrimitive(kv)) return this.equalsConst(op, a, kv);
      if (op === "in" && Array.isArray(kv) && kv.every(isPrimitive)) {
        const v = this.boolTmp();
        const test = kv.length <= 8 ? kv.map((x) => `${a} === ${this.value(x)}`).join(" || ") || "false" : `${this.k(new Set(kv))}.has(${a})`;
        // An object on the left (a time, a list) takes the general path; it never errors here.
        this.emit(`${v} = typeof ${a} === "object" && ${a} !== null ? RT.inOp(${a}, ${this.k(kv)}, ${kspan}) : ${test};`);
        return v;
      }
      if (op === "contains" && isPrimitive(kv)) {
        const v = this.boolTmp();
        const lit = this.value(kv);
        this.emit(`if (!Array.isArray(${a})) { err = RT.containsOp(${a}, ${lit}, ${kspan}); break ${L}; } ${v} = RT.includes(${a}, ${lit});`);
        return v;
      }
      if (typeof kv === "string" && (op === "like" || op === "starts_with" || op === "ends_with" || op === "matches")) {
        const v = this.boolTmp();
        const lit = this.value(kv);
        this.emit(`if (typeof ${a} !== "string") { err = RT.stringOp(${quoted}, ${a}, ${lit}, ${kspan}); break ${L}; }`);
        if (op === "like") this.emit(`${v} = RT.globMatch(${this.k(compileGlob(kv))}, ${a});`);
        else if (op === "starts_with") this.emit(`${v} = ${a}.startsWith(${lit});`);
        else if (op === "ends_with") this.emit(`${v} = ${a}.endsWith(${lit});`);
        else {
          const re = compileRegex(kv);
          if (re instanceof RegExp) this.emit(`${v} = ${this.k(re)}.test(${a});`);
          else this.fail(this.k(new EvalError(msg.badRegex(re.error), span)), L);
        }
        return v;
      }
      if (ORDER_OPS.has(op) && typeof kv === "number") {
        const v = this.boolTmp();
        const lit = this.value(kv);
        // Numbers without an order (NaN, Infinity - Infinity) take compareOp, which errors, as the closures do.
        this.emit(`if (typeof ${a} === "number" && ${a} - ${lit} === ${a} - ${lit}) ${v} = ${a} ${op} ${lit}; else { ${v} = RT.compareOp(${quoted}, ${a}, ${lit}, ${kspan}); if (${v} instanceof E) { err = ${v}; break ${L}; } }`);
        return v;
      }
      if (ORDER_OPS.has(op) && kv instanceof Duration) {
        const v = this.boolTmp();
        this.emit(`if (!(${a} instanceof D)) { err = RT.compareOp(${quoted}, ${a}, ${this.k(kv)}, ${kspan}); break ${L}; } ${v} = ${a}.ms ${op} ${this.k(kv.ms)};`);
        return v;
      }
      if (op === "in" && kv instanceof Ip) {
        const v = this.boolTmp();
        this.emit(`${v} = RT.inOp(${a}, ${this.k(kv)}, ${kspan});`);
        this.check(v, L);
        return v;
      }
    }
    const b = this.gen(e.right, L);
    if (ORDER_OPS.has(op)) {
      const v = this.boolTmp();
      this.emit(`if (typeof ${a} === "number" && typeof ${b} === "number" && ${a} - ${b} === ${a} - ${b}) ${v} = ${a} ${op} ${b}; else { ${v} = RT.compareOp(${quoted}, ${a}, ${b}, ${kspan}); if (${v} instanceof E) { err = ${v}; break ${L}; } }`);
      return v;
    }
    if (op === "==" || op === "!=") {
      const v = this.boolTmp();
      this.emit(`${v} = ${op === "!=" ? "!" : ""}RT.deepEqual(${a}, ${b});`);
      return v;
    }
    const boolResult = op === "in" || op === "contains" || op === "contains_any" || op === "contains_all" || op === "like" || op === "starts_with" || op === "ends_with" || op === "matches";
    const v = boolResult ? this.boolTmp() : this.tmp();
    this.emit(`${v} = RT.applyBinary(${quoted}, ${a}, ${b}, ${kspan});`);
    this.check(v, L);
    return v;
  }

  private equalsConst(op: "==" | "!=", a: string, kv: string | number | boolean): string {
    const v = this.boolTmp();
    const lit = this.value(kv);
    const neg = op === "!=" ? "!" : "";
    this.emit(`${v} = ${neg}(typeof ${a} === "object" && ${a} !== null ? RT.deepEqual(${a}, ${lit}) : ${a} === ${lit});`);
    return v;
  }

  /**
   * Add one rule; its function is `fns[i]` of build(). `assumed` are the
   * leading tests the index proves true for every request it lets through.
   */
  add(rule: CompiledAccessRule, compiler: ExprCompiler, assumed: readonly Expr[] = []): void {
    this.compiler = compiler;
    this.assumed = new Set(assumed);
    this.lines = [];
    this.kk = [];
    this.temps = 0;
    this.labels = 0;
    this.bools = new Set(["true", "false"]);
    const exprs = rule.ast.clauses;
    let ci = 0;
    for (const cl of exprs) {
      if (cl.kind === "Tags") continue;
      const compiled = rule.clauses[ci++]!;
      const L = `L${ci}`;
      if (cl.kind === "RequireMfa") {
        const x = this.tmp();
        this.emit(`${x} = RT.checkMfa(c, ${this.k(compiled.mfaMaxMs)}, ${this.k(compiled.span)});`);
        this.emit(`if (${x} !== 1) { if (${x} !== 0) { st.error = ${x}; return 4; } if (!mfa) { st.obligation = ${this.k(compiled.obligation)}; mfa = true; } st.unmet.push(${this.k(compiled.unmet)}); }`);
        continue;
      }
      this.emit(`${L}: {`);
      const x = this.gen(cl.expr, L);
      this.emit("}");
      this.emit("if (err !== null) { st.error = err; return 4; }");
      const known = this.bools.has(x);
      const nb = known ? "" : `st.error = ${this.k(compiled.notBoolean)}(${x}); return 4;`;
      switch (compiled.kind) {
        case ClauseKind.When:
          if (x === "true") break;
          this.emit(`if (${x} !== true) { if (${x} === false) { st.notApplied = ${this.k(compiled.notApplied)}; return 0; } ${nb} }`);
          break;
        case ClauseKind.Unless:
          if (x === "false") break;
          this.emit(`if (${x} !== false) { if (${x} === true) { st.notApplied = ${this.k(compiled.notApplied)}; return 0; } ${nb} }`);
          break;
        default:
          this.emit(`if (${x} !== true) { if (${x} === false) { unmet = true; st.unmet.push(${this.k(compiled.unmet)}); } else { ${nb} } }`);
          break;
      }
    }
    const temps = Array.from({ length: this.temps }, (_, i) => `v${i}`);
    const body = [
      "return function rule(c, st) {",
      "const input = c.input;",
      "let err = null, unmet = false, mfa = false;",
      temps.length > 0 ? `let ${temps.join(", ")};` : "",
      "if (st.unmet.length !== 0) st.unmet = [];",
      "st.obligation = null;",
      ...this.lines,
      "return unmet ? 2 : mfa ? 3 : 1;",
      "};",
    ].join("\n");
    let shape = this.shapes.get(body);
    if (shape === undefined) {
      shape = this.shapeSources.length;
      this.shapes.set(body, shape);
      this.shapeSources.push(body);
    }
    this.rules.push({ shape, k: this.kk });
  }

  /** How many distinct function bodies the rules needed. */
  get shapeCount(): number {
    return this.shapeSources.length;
  }

  /** Compile every added rule at once. */
  build(): GeneratedRule[] {
    if (this.rules.length === 0) return [];
    const src = `"use strict";\nreturn [\n${this.shapeSources.map((b, i) => `function shape_${i}(k) {\n${b}\n}`).join(",\n")}\n];`;
    const factories = new Function("RT", "E", "S", "D", "O", src)(RT, EvalError, Special, Duration, isJsonObject) as ((k: unknown[]) => GeneratedRule)[];
    return this.rules.map((r) => factories[r.shape]!(r.k));
  }

  /** The generated source (for debugging and tests). */
  source(): string {
    return this.shapeSources.map((b, i) => `function shape_${i}(k) {\n${b}\n}`).join("\n\n");
  }
}
