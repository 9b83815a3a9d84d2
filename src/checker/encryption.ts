/**
 * Pass: encryption requirements (spec section 5). Ciphers must be ones the
 * runtime provides (SP2016). Rules that can apply to the same data must not
 * demand different ciphers (SP2022): the default applies to everything, and
 * two named rules can both apply unless their conditions are provably
 * disjoint: they compare the same attribute path with `==` / `in` against
 * literal sets that share no value, or one allows only values the other
 * excludes (`when p != v`, `when not (p in [...])`, an `unless` that is one
 * `p == v` / `p in [...]` test).
 */
import type { EncryptionRule, Expr, PolicyFile, StringLit } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { constValueOf, report, type CheckContext } from "./context.js";
import { fold, NOT_CONSTANT } from "./fold.js";
import { attributePath, isNode, isStringLit, pathText, unparen } from "./sites.js";
import { BLOCK_ROOTS } from "./scopes.js";
import type { ConstValue } from "./values.js";

export const CIPHERS = ["aes-256-gcm", "aes-256-gcm-siv"] as const;

interface EncRule {
  rule: EncryptionRule;
  file: PolicyFile;
  cipher: StringLit;
  /** path -> the literal values the `when`s allow for it */
  constraints: Map<string, Set<string>>;
  /** path -> literal values the rule's conditions rule out */
  exclusions: Map<string, Set<string>>;
}

export function checkEncryption(ctx: CheckContext): void {
  const rules: EncRule[] = [];
  let deflt: EncRule | undefined;
  for (const file of ctx.files) {
    for (const item of Array.isArray(file?.items) ? file.items : []) {
      if (!isNode(item) || item.kind !== "EncryptionRule") continue;
      const cipher = firstKnownCipher(ctx, item);
      if (!cipher) continue;
      const r: EncRule = { rule: item, file, cipher, ...constraintsOf(ctx, item, file) };
      if (item.name === null) deflt ??= r;
      else rules.push(r);
    }
  }
  // Each rule reports one conflict: with the default if any, else with the first earlier rule.
  const reported = new Set<EncRule>();
  if (deflt) {
    for (const r of rules) {
      if (r.cipher.value === deflt.cipher.value) continue;
      conflict(ctx, r, deflt, "the default");
      reported.add(r);
    }
  }
  // Pairwise, but only between rules with different ciphers.
  for (let j = 0; j < rules.length; j++) {
    const b = rules[j]!;
    if (reported.has(b)) continue;
    for (let i = 0; i < j; i++) {
      const a = rules[i]!;
      if (a.cipher.value === b.cipher.value || disjoint(a, b)) continue;
      conflict(ctx, b, a, `rule \`${a.rule.name}\``);
      break;
    }
  }
}

/** Reports unknown ciphers; returns the rule's first known one. */
function firstKnownCipher(ctx: CheckContext, rule: EncryptionRule): StringLit | undefined {
  let found: StringLit | undefined;
  for (const c of Array.isArray(rule.clauses) ? rule.clauses : []) {
    if (!isNode(c) || c.kind !== "RequireCipher" || !isStringLit(c.cipher)) continue;
    const name = c.cipher.value;
    if ((CIPHERS as readonly string[]).includes(name)) {
      found ??= c.cipher;
    } else {
      const hint = didYouMean(name, CIPHERS);
      report(ctx, diagnostic("SP2016", c.cipher.span, { cipher: name }, hint ? { hint } : {}));
    }
  }
  return found;
}

function conflict(ctx: CheckContext, r: EncRule, other: EncRule, what: string): void {
  report(
    ctx,
    diagnostic("SP2022", r.cipher.span, { a: r.cipher.value, b: other.cipher.value }, {
      hint: `${what} requires \`${other.cipher.value}\`; use one cipher, or make the \`when\` conditions exclusive`,
      related: [{ message: `${what} requires ${other.cipher.value} here`, span: other.cipher.span }],
    }),
  );
}

function valueKey(v: ConstValue): string | undefined {
  if (typeof v === "string") return `s:${v}`;
  if (typeof v === "number") return `n:${v}`;
  if (typeof v === "boolean") return `b:${v}`;
  return undefined;
}

/** The conjuncts of an expression: `a and (b and c)` -> a, b, c. */
function conjuncts(e: Expr, out: Expr[]): Expr[] {
  const stack = [e];
  while (stack.length > 0) {
    const x = unparen(stack.pop()!);
    if (!isNode(x)) continue;
    if (x.kind === "Binary" && x.op === "and") stack.push(x.right, x.left);
    else out.push(x);
  }
  return out;
}

/** A literal test of a `data` path: `p == v`, `v == p`, `p in [...]` (negated: `!=`); undefined for anything else. */
function literalTest(x: Expr, foldConst: (e: Expr) => ConstValue | typeof NOT_CONSTANT): { path: string; values: ConstValue[]; negated: boolean } | undefined {
  if (x.kind !== "Binary" || (x.op !== "==" && x.op !== "!=" && x.op !== "in")) return undefined;
  let pathSide = attributePath(x.left);
  let valueSide: Expr = x.right;
  if ((!pathSide || pathSide.root.name !== "data") && x.op !== "in") {
    pathSide = attributePath(x.right);
    valueSide = x.left;
  }
  if (!pathSide || pathSide.root.name !== "data") return undefined;
  const v = foldConst(valueSide);
  if (v === NOT_CONSTANT) return undefined;
  if (x.op === "in") return Array.isArray(v) ? { path: pathText(pathSide), values: v, negated: false } : undefined;
  return { path: pathText(pathSide), values: [v], negated: x.op === "!=" };
}

function constraintsOf(
  ctx: CheckContext,
  rule: EncryptionRule,
  file: PolicyFile,
): { constraints: Map<string, Set<string>>; exclusions: Map<string, Set<string>> } {
  const out = new Map<string, Set<string>>();
  const excluded = new Map<string, Set<string>>();
  const exclude = (path: string, values: ConstValue[]) => {
    const set = excluded.get(path) ?? new Set<string>();
    for (const v of values) {
      const k = valueKey(v);
      if (k !== undefined) set.add(k);
    }
    excluded.set(path, set);
  };
  const foldConst = (e: Expr) =>
    fold(e, { name: (n) => (BLOCK_ROOTS.encryption.includes(n) ? NOT_CONSTANT : (constValueOf(ctx, file, n) ?? NOT_CONSTANT)) });
  const add = (path: string, values: ConstValue[]) => {
    const keys = new Set<string>();
    for (const v of values) {
      const k = valueKey(v);
      if (k === undefined) return; // not a plain literal set: no claim
      keys.add(k);
    }
    const prev = out.get(path);
    out.set(path, prev ? new Set([...prev].filter((k) => keys.has(k))) : keys);
  };
  for (const c of Array.isArray(rule.clauses) ? rule.clauses : []) {
    if (!isNode(c) || (c.kind !== "When" && c.kind !== "Unless")) continue;
    if (c.kind === "Unless") {
      // only a whole `unless` that is one test: `unless a and b` rules out neither alone
      const t = isNode(c.expr) ? literalTest(unparen(c.expr), foldConst) : undefined;
      if (t && !t.negated) exclude(t.path, t.values);
      continue;
    }
    for (const x of conjuncts(c.expr, [])) {
      const negatedTest = x.kind === "Unary" && x.op === "not" && isNode(x.operand) ? literalTest(unparen(x.operand), foldConst) : undefined;
      if (negatedTest) {
        if (!negatedTest.negated) exclude(negatedTest.path, negatedTest.values);
        continue;
      }
      const t = literalTest(x, foldConst);
      if (!t) continue;
      if (t.negated) exclude(t.path, t.values);
      else add(t.path, t.values);
    }
  }
  return { constraints: out, exclusions: excluded };
}

/** Every value `a` allows for some path is one `b` rules out. */
function excludedBy(a: EncRule, b: EncRule): boolean {
  for (const [path, allowed] of a.constraints) {
    const ruledOut = b.exclusions.get(path);
    if (ruledOut && [...allowed].every((k) => ruledOut.has(k))) return true;
  }
  return false;
}

function disjoint(a: EncRule, b: EncRule): boolean {
  if (excludedBy(a, b) || excludedBy(b, a)) return true;
  for (const [path, as] of a.constraints) {
    const bs = b.constraints.get(path);
    if (!bs) continue;
    let shared = false;
    for (const k of as) {
      if (bs.has(k)) {
        shared = true;
        break;
      }
    }
    if (!shared) return true;
  }
  return false;
}
