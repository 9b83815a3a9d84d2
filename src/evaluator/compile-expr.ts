/**
 * Expressions to closures (spec/LANGUAGE.md section 3), compiled once per
 * load. Each closure takes the EvalContext and returns a value or an
 * EvalError; nothing on the hot path throws.
 *
 * At compile time: every sub-expression that reads no input, clock or store
 * is folded to its value (consts, `ip("10.0.0.0/8")`, `[a, b]`, `15m * 2`);
 * attribute paths from an input root (`principal.roles`, `resource["x-y"]`)
 * become one loop; `x in [literals]` becomes a Set lookup; `like` patterns
 * become globs; the errors a node can raise about a missing attribute are
 * built once and shared.
 *
 * Choices where the spec is silent:
 * - Operands evaluate left to right; the first error wins.
 * - `and`/`or` need booleans on both sides they evaluate; `not` needs a
 *   boolean. A non-boolean is an error, never "truthy".
 * - `x ?? d` replaces only a missing-attribute error in `x` (see values.ts);
 *   type errors and other errors pass through.
 * - `e has name` is false when `e` is not an object (null, a list, ...), and
 *   an error when `e` itself errors (a missing parent: `a has b` needs `a`).
 * - `a[i]`: an object takes a string key, a list a whole-number index;
 *   an index outside the list is a missing attribute.
 */
import type { Expr, Span } from "../parser/ast.js";
import { EvalContext } from "./context.js";
import { exprText } from "./expr-text.js";
import { msg } from "./messages.js";
import { applyBinary, compareOp, compileRegex, containsOp, inOp, ORDER_EXPECTED, stringOp } from "./operators.js";
import { builtin } from "./builtins.js";
import { compileGlob, globMatch } from "./glob.js";
import { Duration } from "./duration.js";
import { Ip, parseV4 } from "./cidr.js";
import { EMPTY_RISK_STORE } from "./stores.js";
import { generatedPathReader, type PathStep } from "./path-reader.js";
import {
  EvalError,
  Special,
  deepEqual,
  isInheritedName,
  isObject,
  typeName,
  type ErrorSpan,
  type ObjectValue,
  type Result,
  type TypeName,
  type Value,
} from "./values.js";

export type Eval = (c: EvalContext) => Result;

export interface CompiledExpr {
  fn: Eval;
  /** True when the value is known at compile time (then `value` holds it). */
  constant: boolean;
  value: Result;
}

/** What names mean where an expression sits. */
export interface ExprScope {
  /** Input roots bound in this block (`principal`, `action`, ...; `now` is always bound). */
  roots: ReadonlySet<string>;
  /** A const's folded value, or undefined when `name` is no const here. */
  constValue(name: string): Result | undefined;
}

export function toErrorSpan(s: Span): ErrorSpan {
  // Frozen: decisions share it (errors, notApplied, explain), so a caller editing one cannot edit all.
  return Object.freeze({ file: s.file, line: s.line, column: s.column });
}

const hasOwn = Object.prototype.hasOwnProperty;
const FOLD_CONTEXT = new EvalContext({}, NaN, () => NaN, EMPTY_RISK_STORE);

function constant(v: Result): CompiledExpr {
  return { fn: () => v, constant: true, value: v };
}
function dynamic(fn: Eval): CompiledExpr {
  return { fn, constant: false, value: null };
}
/** Fold `fn` when every input is constant. */
function maybeFold(fn: Eval, inputs: readonly CompiledExpr[], pure = true): CompiledExpr {
  if (pure && inputs.every((i) => i.constant)) return constant(fn(FOLD_CONTEXT));
  return dynamic(fn);
}

function isPrimitive(v: unknown): v is string | number | boolean {
  const t = typeof v;
  return t === "string" || t === "number" || t === "boolean";
}

/** Lazily built, shared type errors of one site, one per operand type. */
export function typeErrors(make: (t: TypeName) => string, span: ErrorSpan): (v: unknown) => EvalError {
  const cache = new Map<TypeName, EvalError>();
  return (v) => {
    const t = typeName(v);
    let e = cache.get(t);
    if (e === undefined) {
      e = new EvalError(make(t), span);
      cache.set(t, e);
    }
    return e;
  };
}

export interface ExprCompilerOptions {
  /**
   * Read input paths with a generated function per path (path-reader.ts)
   * instead of the shared path loop: for a stream engine that reads a few
   * paths of every event. Falls back to the loop where code cannot be
   * generated.
   */
  generatePaths?: boolean;
}

export class ExprCompiler {
  private readonly memo = new Map<Expr, CompiledExpr>();
  constructor(
    private readonly scope: ExprScope,
    private readonly options: ExprCompilerOptions = {},
  ) {}

  /**
   * `e` folded, when it is constant (reads no input, clock or store); else
   * null. Builds closures for constant sub-trees only, so the code
   * generator can ask about every node cheaply. Agrees with
   * `compile(e).constant`.
   */
  constantOf(e: Expr): { readonly value: Result } | null {
    // Literals, the most common constants, without building a closure.
    if (e.kind === "String" || e.kind === "Number" || e.kind === "Bool") return { value: e.value };
    return this.isConstant(e) ? this.compile(e) : null;
  }

  /** Not memoized: expressions are shallow, and a table of every node costs more than the walk. */
  private isConstant(e: Expr): boolean {
    switch (e.kind) {
      case "String":
      case "Number":
      case "Bool":
      case "Duration":
        return true;
      case "Paren":
        return this.isConstant(e.expr);
      case "List":
        return e.items.every((i) => this.isConstant(i));
      case "Object":
        return e.entries.every((en) => this.isConstant(en.value));
      case "Name":
        return !this.scope.roots.has(e.name);
      case "Member":
      case "Has":
        return this.isConstant(e.object);
      case "Index":
        return this.isConstant(e.object) && this.isConstant(e.index);
      case "Call": {
        const impl = builtin(e.callee);
        if (impl === undefined || e.args.length !== 1) return true; // a constant error
        return !impl.impure && this.isConstant(e.args[0]!);
      }
      case "Unary":
        return this.isConstant(e.operand);
      case "Binary":
        return this.isConstant(e.left) && this.isConstant(e.right);
    }
  }

  /** Compile (memoized per node, so asking about sub-expressions again is free). */
  compile(e: Expr): CompiledExpr {
    let c = this.memo.get(e);
    if (c === undefined) {
      c = this.build(e);
      this.memo.set(e, c);
    }
    return c;
  }

  private build(e: Expr): CompiledExpr {
    switch (e.kind) {
      case "String":
      case "Number":
      case "Bool":
        return constant(e.value);
      case "Duration":
        return constant(new Duration(e.ms, e.raw));
      case "Paren":
        return this.compile(e.expr);
      case "List":
        return this.list(e.items);
      case "Object":
        return this.object(e);
      case "Name":
        return this.name(e.name, e.span);
      case "Member":
      case "Index":
        return this.path(e) ?? (e.kind === "Member" ? this.member(e) : this.index(e));
      case "Has":
        return this.has(e);
      case "Call":
        return this.call(e);
      case "Unary":
        return this.unary(e);
      case "Binary":
        return this.binary(e);
    }
  }

  private list(items: Expr[]): CompiledExpr {
    const cs = items.map((i) => this.compile(i));
    const fns = cs.map((c) => c.fn);
    const fn: Eval = (c) => {
      const out: Value[] = new Array(fns.length);
      for (let i = 0; i < fns.length; i++) {
        const v = fns[i]!(c);
        if (v instanceof EvalError) return v;
        out[i] = v;
      }
      return out;
    };
    return maybeFold(fn, cs);
  }

  private object(e: Extract<Expr, { kind: "Object" }>): CompiledExpr {
    const keys = e.entries.map((en) => en.key);
    const cs = e.entries.map((en) => this.compile(en.value));
    const fns = cs.map((c) => c.fn);
    const fn: Eval = (c) => {
      const pairs: [string, Value][] = [];
      for (let i = 0; i < fns.length; i++) {
        const v = fns[i]!(c);
        if (v instanceof EvalError) return v;
        pairs.push([keys[i]!, v]);
      }
      // fromEntries makes `__proto__` an ordinary own key.
      return Object.fromEntries(pairs) as ObjectValue;
    };
    return maybeFold(fn, cs);
  }

  private name(name: string, span: Span): CompiledExpr {
    if (name === "now" && this.scope.roots.has("now")) return dynamic((c) => c.nowValue());
    if (this.scope.roots.has(name)) {
      const missing = new EvalError(msg.missingAttribute(name), toErrorSpan(span), true);
      // A detect rule's roots are any names: `toString` must not read Object.prototype's.
      if (isInheritedName(name)) {
        return dynamic((c) => {
          const v = hasOwn.call(c.input, name) ? c.input[name] : undefined;
          return v === undefined ? missing : v;
        });
      }
      return dynamic((c) => {
        const v = c.input[name];
        return v === undefined ? missing : v;
      });
    }
    const k = this.scope.constValue(name);
    if (k !== undefined) return constant(k);
    return constant(new EvalError(msg.unknownName(name), toErrorSpan(span)));
  }

  /**
   * A path from an input root through `.name` and `["literal"]` steps, as one
   * loop. Null when `e` is not such a path.
   */
  private path(e: Expr): CompiledExpr | null {
    const nodes: Expr[] = [];
    let cur: Expr = e;
    while (cur.kind === "Member" || (cur.kind === "Index" && cur.index.kind === "String")) {
      nodes.push(cur);
      cur = cur.object;
    }
    if (cur.kind !== "Name" || cur.name === "now" || !this.scope.roots.has(cur.name)) return null;
    const root = cur.name;
    const rootMissing = new EvalError(msg.missingAttribute(root), toErrorSpan(cur.span), true);
    nodes.reverse();
    const steps: PathStep[] = nodes.map((n) => {
      const span = toErrorSpan(n.span);
      const objText = exprText((n as { object: Expr }).object);
      if (n.kind === "Member") {
        return {
          prop: n.property,
          safe: !isInheritedName(n.property),
          missing: new EvalError(msg.missingAttribute(exprText(n)), span, true),
          typeError: typeErrors((t) => msg.notAnObject(n.property, objText, t), span),
        };
      }
      const key = (n as { index: { value: string } }).index.value;
      return {
        prop: key,
        safe: !isInheritedName(key),
        missing: new EvalError(msg.missingAttribute(exprText(n)), span, true),
        typeError: typeErrors((t) => msg.badIndex(objText, t, "string"), span),
      };
    });
    const generated = this.options.generatePaths === true ? generatedPathReader(root, steps, rootMissing) : null;
    if (generated !== null) return dynamic(generated);
    const n = steps.length;
    const rootSafe = !isInheritedName(root);
    return dynamic((c) => {
      let o: unknown = rootSafe ? c.input[root] : hasOwn.call(c.input, root) ? c.input[root] : undefined;
      if (o === undefined) return rootMissing;
      for (let i = 0; i < n; i++) {
        const st = steps[i]!;
        if (typeof o !== "object") return st.typeError(o);
        if (o === null) return st.missing;
        if (Array.isArray(o) || o instanceof Special) return st.typeError(o);
        const v: unknown = st.safe ? (o as ObjectValue)[st.prop] : hasOwn.call(o, st.prop) ? (o as ObjectValue)[st.prop] : undefined;
        if (v === undefined) return st.missing;
        o = v;
      }
      return o as Value;
    });
  }

  private member(e: Extract<Expr, { kind: "Member" }>): CompiledExpr {
    const obj = this.compile(e.object);
    const span = toErrorSpan(e.span);
    const missing = new EvalError(msg.missingAttribute(exprText(e)), span, true);
    const objText = exprText(e.object);
    const typeError = typeErrors((t) => msg.notAnObject(e.property, objText, t), span);
    const prop = e.property;
    const of = obj.fn;
    const fn: Eval = (c) => {
      const o = of(c);
      if (o instanceof EvalError) return o;
      if (o === null) return missing;
      if (!isObject(o)) return typeError(o);
      const v = hasOwn.call(o, prop) ? o[prop] : undefined;
      return v === undefined ? missing : v;
    };
    return maybeFold(fn, [obj]);
  }

  private index(e: Extract<Expr, { kind: "Index" }>): CompiledExpr {
    const obj = this.compile(e.object);
    const idx = this.compile(e.index);
    const span = toErrorSpan(e.span);
    const missing = new EvalError(msg.missingAttribute(exprText(e)), span, true);
    const objText = exprText(e.object);
    const of = obj.fn;
    const xf = idx.fn;
    const site: IndexSite = { missing: () => missing, badIndex: (o, i) => new EvalError(msg.badIndex(objText, typeName(o), typeName(i)), span) };
    const fn: Eval = (c) => {
      const o = of(c);
      if (o instanceof EvalError) return o;
      const i = xf(c);
      if (i instanceof EvalError) return i;
      return indexValue(o, i, site);
    };
    return maybeFold(fn, [obj, idx]);
  }

  private has(e: Extract<Expr, { kind: "Has" }>): CompiledExpr {
    const obj = this.compile(e.object);
    const of = obj.fn;
    const name = e.name;
    const fn: Eval = (c) => {
      const o = of(c);
      if (o instanceof EvalError) return o;
      return isObject(o) && hasOwn.call(o, name) && o[name] !== undefined;
    };
    return maybeFold(fn, [obj]);
  }

  private call(e: Extract<Expr, { kind: "Call" }>): CompiledExpr {
    const span = toErrorSpan(e.span);
    const impl = builtin(e.callee);
    if (impl === undefined) return constant(new EvalError(msg.unknownFunction(e.callee), toErrorSpan(e.calleeSpan)));
    if (e.args.length !== 1) return constant(new EvalError(msg.arity(e.callee, 1, e.args.length), span));
    const arg = this.compile(e.args[0]!);
    const af = arg.fn;
    const fn: Eval = (c) => {
      const a = af(c);
      return a instanceof EvalError ? a : impl.call(a, c, span);
    };
    return maybeFold(fn, [arg], !impl.impure);
  }

  private unary(e: Extract<Expr, { kind: "Unary" }>): CompiledExpr {
    const operand = this.compile(e.operand);
    const of = operand.fn;
    const span = toErrorSpan(e.span);
    if (e.op === "not") {
      const typeError = typeErrors((t) => msg.operand("not", "a boolean", t), span);
      return maybeFold((c) => {
        const v = of(c);
        if (v === true) return false;
        if (v === false) return true;
        return v instanceof EvalError ? v : typeError(v);
      }, [operand]);
    }
    const typeError = typeErrors((t) => msg.operand("-", "a number or a duration", t), span);
    return maybeFold((c) => {
      const v = of(c);
      if (typeof v === "number") return -v;
      if (v instanceof Duration) return new Duration(-v.ms);
      return v instanceof EvalError ? v : typeError(v);
    }, [operand]);
  }

  private binary(e: Extract<Expr, { kind: "Binary" }>): CompiledExpr {
    const l = this.compile(e.left);
    const r = this.compile(e.right);
    const lf = l.fn;
    const rf = r.fn;
    const span = toErrorSpan(e.span);
    const op = e.op;
    switch (op) {
      case "and":
      case "or": {
        const lErr = typeErrors((t) => msg.operand(op, "booleans", t), span);
        const short = op === "or";
        return maybeFold((c) => {
          const a = lf(c);
          if (a === short) return short;
          if (a !== !short) return a instanceof EvalError ? a : lErr(a);
          const b = rf(c);
          if (b === true || b === false) return b;
          return b instanceof EvalError ? b : lErr(b);
        }, [l, r]);
      }
      case "??":
        return maybeFold((c) => {
          const a = lf(c);
          return a instanceof EvalError && a.missing ? rf(c) : a;
        }, [l, r]);
    }
    if (l.constant && r.constant) {
      return constant(binaryOf(op, lf, rf, span)(FOLD_CONTEXT));
    }
    return dynamic(this.specialized(op, l, r, span) ?? binaryOf(op, lf, rf, span));
  }

  /** Faster closures for a constant right operand; null when none applies. */
  private specialized(op: string, l: CompiledExpr, r: CompiledExpr, span: ErrorSpan): Eval | null {
    const lf = l.fn;
    if (!r.constant && l.constant && (op === "==" || op === "!=") && isPrimitive(l.value)) {
      // `==` is symmetric and a constant cannot error: swap.
      return this.specialized(op, r, l, span);
    }
    if (!r.constant || r.value instanceof EvalError) return null;
    const k = r.value;
    switch (op) {
      case "==":
      case "!=": {
        if (!isPrimitive(k)) return null;
        const neg = op === "!=";
        return (c) => {
          const a = lf(c);
          if (a instanceof EvalError) return a;
          const eq = typeof a === "object" && a !== null ? deepEqual(a, k) : a === k;
          return eq !== neg;
        };
      }
      case "in": {
        const v4 = v4Ranges(k);
        if (v4 !== null) {
          // An address string against IPv4 ranges, without making an Ip (a rule can test every event's
          // source address); anything else (an ip(), a range, IPv6, not an address) takes inOp.
          const { nets, masks } = v4;
          return (c) => {
            const a = lf(c);
            if (a instanceof EvalError) return a;
            const w = typeof a === "string" ? parseV4(a) : null;
            if (w === null) return inOp(a, k, span);
            for (let i = 0; i < nets.length; i++) if (((w & masks[i]!) >>> 0) === nets[i]) return true;
            return false;
          };
        }
        if (k instanceof Ip) {
          return (c) => {
            const a = lf(c);
            return a instanceof EvalError ? a : inOp(a, k, span);
          };
        }
        if (!Array.isArray(k) || !k.every(isPrimitive)) return null;
        const set = new Set<unknown>(k);
        return (c) => {
          const a = lf(c);
          if (a instanceof EvalError) return a;
          return isPrimitive(a) ? set.has(a) : inOp(a, k, span);
        };
      }
      case "contains": {
        if (!isPrimitive(k)) return null;
        return (c) => {
          const a = lf(c);
          if (a instanceof EvalError) return a;
          if (!Array.isArray(a)) return containsOp(a, k, span);
          for (let i = 0; i < a.length; i++) {
            const x = a[i];
            if (x === k || (typeof x === "object" && x !== null && deepEqual(x, k))) return true;
          }
          return false;
        };
      }
      case "like": {
        if (typeof k !== "string") return null;
        const glob = compileGlob(k);
        return (c) => {
          const a = lf(c);
          if (a instanceof EvalError) return a;
          return typeof a === "string" ? globMatch(glob, a) : stringOp("like", a, k, span);
        };
      }
      case "matches": {
        if (typeof k !== "string") return null;
        const re = compileRegex(k);
        const bad = re instanceof RegExp ? null : new EvalError(msg.badRegex(re.error), span);
        return (c) => {
          const a = lf(c);
          if (a instanceof EvalError) return a;
          if (typeof a !== "string") return stringOp("matches", a, k, span);
          return bad ?? (re as RegExp).test(a);
        };
      }
      case "<":
      case "<=":
      case ">":
      case ">=": {
        if (typeof k === "number") {
          return (c) => {
            const a = lf(c);
            if (a instanceof EvalError) return a;
            // A NaN (from a JavaScript caller) or -Infinity against Infinity has no order: compareOp errors.
            if (typeof a === "number" && a - k === a - k) return op === "<" ? a < k : op === "<=" ? a <= k : op === ">" ? a > k : a >= k;
            return compareOp(op, a, k, span);
          };
        }
        if (k instanceof Duration) {
          const km = k.ms;
          return (c) => {
            const a = lf(c);
            if (a instanceof EvalError) return a;
            if (a instanceof Duration) {
              const m = a.ms;
              return op === "<" ? m < km : op === "<=" ? m <= km : op === ">" ? m > km : m >= km;
            }
            return new EvalError(msg.operand(op, ORDER_EXPECTED, typeName(a), "duration"), span);
          };
        }
        return null;
      }
    }
    return null;
  }
}

/** `ip(...)` or a list of them, all IPv4: each range's network and mask; else null. */
function v4Ranges(k: Value): { nets: number[]; masks: number[] } | null {
  const list = Array.isArray(k) ? k : [k];
  if (list.length === 0) return null;
  const nets: number[] = [];
  const masks: number[] = [];
  for (const r of list) {
    if (!(r instanceof Ip) || r.v6) return null;
    const mask = r.prefix === 0 ? 0 : (0xffffffff << (32 - r.prefix)) >>> 0;
    masks.push(mask);
    nets.push((r.w3 & mask) >>> 0);
  }
  return { nets, masks };
}

/** The errors of an `o[i]` site. */
export interface IndexSite {
  missing(): EvalError;
  badIndex(o: Value, i: Value): EvalError;
}

/** `o[i]` once both sides are known and error-free. */
export function indexValue(o: Value, i: Value, site: IndexSite): Result {
  if (o === null) return site.missing();
  if (Array.isArray(o)) {
    if (typeof i === "number" && Number.isInteger(i)) return i >= 0 && i < o.length && o[i] !== undefined ? o[i]! : site.missing();
  } else if (isObject(o) && typeof i === "string") {
    const v = hasOwn.call(o, i) ? o[i] : undefined;
    return v === undefined ? site.missing() : v;
  }
  return site.badIndex(o, i);
}

function binaryOf(op: string, lf: Eval, rf: Eval, span: ErrorSpan): Eval {
  return (c) => {
    const a = lf(c);
    if (a instanceof EvalError) return a;
    const b = rf(c);
    if (b instanceof EvalError) return b;
    return applyBinary(op, a, b, span);
  };
}
