/**
 * Pass: test blocks (spec section 8). Test names are unique per package
 * (SP2021); the input is an object literal (`events`: a JSONL path or a list
 * of object literals) (SP2028); each expectation fits the input kind
 * (SP2027); `expect alert "x"` names a detect rule by name or id, and a
 * string an expectation compares with a rule field of `result` names a rule
 * that field can hold (SP2030).
 */
import type { Expectation, Expr, PolicyFile, TestBlock, TestInputKind } from "../parser/ast.js";
import type { Span } from "../parser/span.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { closest, didYouMean } from "../diagnostics/suggest.js";
import { constValueOf, report, type CheckContext } from "./context.js";
import { fold, NOT_CONSTANT } from "./fold.js";
import { allRules, ruleName } from "./rule-ids.js";
import { attributePath, isNode, isStringLit, unparen, walkExpr } from "./sites.js";
import { isPlainObject } from "./values.js";

/** What each input kind can expect, besides an expression over `result`. */
const FITS: Record<TestInputKind, readonly string[]> = {
  access: ["allow", "deny", "challenge"],
  mesh: ["admit", "reject"],
  events: ["alert", "no alert"],
  encryption: [],
};

/** The rules a test may name: detect rules by name or id, decision rules (access, encryption, mesh) by id. */
interface KnownRules {
  /** Detect rule names and ids (`expect alert`). */
  detect: Set<string>;
  /** Detect rule names only: what an alert's `rule` holds. */
  detectByName: Set<string>;
  /** Access, encryption and mesh rule ids: what a decision's `rule`, `rules`, `reasons[].rule` hold. */
  decision: Set<string>;
  /** Decision rule ids by name, for the hint when a test writes a name where an id belongs. */
  decisionByName: Map<string, string>;
}

export function checkTests(ctx: CheckContext): void {
  const known: KnownRules = { detect: new Set(), detectByName: new Set(), decision: new Set(), decisionByName: new Map() };
  for (const { rule, file } of allRules(ctx)) {
    const isDefault = rule.kind === "EncryptionRule" && rule.name === null;
    if (typeof rule.name !== "string" && !isDefault) continue;
    const id = `${ctx.pkgOf(file)}/${ruleName(rule)}`;
    if (rule.kind === "Detect") {
      known.detect.add(String(rule.name));
      known.detect.add(id);
      known.detectByName.add(String(rule.name));
    } else {
      known.decision.add(id);
      if (!known.decisionByName.has(ruleName(rule))) known.decisionByName.set(ruleName(rule), id);
    }
  }
  const testNames = new Map<string, Map<string, Span>>();
  for (const file of ctx.files) {
    const pkg = ctx.pkgOf(file);
    let names = testNames.get(pkg);
    if (!names) testNames.set(pkg, (names = new Map()));
    for (const item of Array.isArray(file?.items) ? file.items : []) {
      if (!isNode(item) || item.kind !== "Test") continue;
      const first = names.get(item.name);
      if (first) {
        report(
          ctx,
          diagnostic("SP2021", item.nameSpan ?? item.span, { what: "test", name: item.name }, {
            hint: `test names must be unique within package \`${pkg}\``,
            related: [{ message: "first defined here", span: first }],
          }),
        );
      } else {
        names.set(item.name, item.nameSpan ?? item.span);
      }
      checkTest(ctx, file, item, known);
    }
  }
}

/**
 * An object literal, or a const that folds to an object. Undefined when it
 * does not fold (an input read: the names pass reports that as SP2015).
 */
function isObjectValue(ctx: CheckContext, file: PolicyFile, e: Expr): boolean | undefined {
  const x = unparen(e);
  if (x.kind === "Object") return true;
  const v = fold(x, { name: (n) => constValueOf(ctx, file, n) ?? NOT_CONSTANT });
  return v === NOT_CONSTANT ? undefined : isPlainObject(v);
}

function checkTest(ctx: CheckContext, file: PolicyFile, test: TestBlock, known: KnownRules): void {
  const input = isNode(test.input) ? test.input : null;
  if (input && isNode(input.value)) {
    const v = unparen(input.value);
    if (input.inputKind === "events") {
      if (v.kind === "List") {
        for (const item of Array.isArray(v.items) ? v.items : []) {
          if (isNode(item) && isObjectValue(ctx, file, item) === false) {
            report(ctx, diagnostic("SP2028", item.span, { what: "each event", expected: "an object" }));
          }
        }
      } else if (v.kind !== "String") {
        report(ctx, diagnostic("SP2028", input.value.span, { what: "`events` input", expected: 'a JSONL file path or a list of event objects' }));
      }
    } else if (isObjectValue(ctx, file, v) === false) {
      report(
        ctx,
        diagnostic("SP2028", input.value.span, { what: `\`${input.inputKind}\` input`, expected: "an object" }, {
          hint: input.inputKind === "access" ? "write `access { principal: {...}, action: \"...\", resource: {...} }`" : undefined,
        }),
      );
    }
  }
  for (const ex of Array.isArray(test.expects) ? test.expects : []) {
    if (!isNode(ex)) continue;
    if (input) fits(ctx, ex, input.inputKind);
    if (ex.kind === "ExpectAlert" && isNode(ex.count) && !(Number.isSafeInteger(ex.count.value) && ex.count.value >= 0)) {
      // the test could never pass: alerts are counted in whole numbers
      report(ctx, diagnostic("SP2028", ex.count.span, { what: "alert count", expected: "a whole number, 0 or more" }));
    }
    if (ex.kind === "ExpectAlert" && isStringLit(ex.rule) && !known.detect.has(ex.rule.value)) {
      const hint = didYouMean(ex.rule.value, known.detect);
      report(ctx, diagnostic("SP2030", ex.rule.span, { name: ex.rule.value }, { hint: hint ?? "name a detect rule by its name or its id `package/name`" }));
    }
    if (ex.kind === "ExpectExpr" && isNode(ex.expr) && input) checkRuleStrings(ctx, ex.expr, input.inputKind === "events", known);
  }
}

const RULE_FIELDS: ReadonlySet<string> = new Set(["rule", "rules"]);
const MEMBERSHIP_OPS: ReadonlySet<string> = new Set(["==", "!=", "in", "contains", "contains_any", "contains_all"]);

/** `result.rule`, `result.reasons[0].rule`, `result.rules`, `result.alerts[0].rule`: a path ending in a rule field. */
function isRuleField(e: Expr): boolean {
  const p = attributePath(e);
  const last = p?.segments.at(-1);
  return p !== undefined && p.root.name === "result" && last?.kind === "prop" && RULE_FIELDS.has(last.name);
}

/**
 * A string compared with a rule field of `result` (`==`, `!=`, `in`,
 * `contains...`) must be a rule that field can hold: a decision names rules
 * by id, an alert its detect rule by name. Anything else can never be equal,
 * so `expect result.rule != "p/typo"` or `expect not (result.rules contains
 * "p/gone")` would pass whatever the policy does.
 */
function checkRuleStrings(ctx: CheckContext, expr: Expr, events: boolean, known: KnownRules): void {
  walkExpr(expr, (x) => {
    if (x.kind !== "Binary" || !MEMBERSHIP_OPS.has(x.op) || !isNode(x.left) || !isNode(x.right)) return;
    const left = unparen(x.left);
    const right = unparen(x.right);
    for (const [field, other] of [[left, right], [right, left]] as const) {
      if (!isRuleField(field)) continue;
      const strings = other.kind === "List" && Array.isArray(other.items) ? other.items.map((i) => (isNode(i) ? unparen(i) : i)) : [other];
      for (const str of strings) if (isStringLit(str)) checkRuleString(ctx, str.value, str.span, events, known);
    }
  });
}

function checkRuleString(ctx: CheckContext, name: string, span: Span, events: boolean, known: KnownRules): void {
  if (events ? known.detectByName.has(name) : known.decision.has(name)) return;
  let hint: string;
  if (events) {
    const asName = known.detect.has(name) ? name.slice(name.indexOf("/") + 1) : closest(name, known.detectByName);
    hint = asName !== undefined ? `alerts name their rule by its name: did you mean \`${asName}\`?` : "alerts name their detect rule by its name";
  } else {
    const byName = known.decisionByName.get(name);
    hint = byName !== undefined ? `decisions name rules by id \`package/name\`: did you mean \`${byName}\`?` : (didYouMean(name, known.decision) ?? "decisions name rules by id `package/name`");
  }
  report(ctx, diagnostic("SP2030", span, { name }, { hint }));
}

function expectationWord(ex: Expectation): string | undefined {
  switch (ex.kind) {
    case "ExpectDecision":
      return ex.decision;
    case "ExpectAlert":
      return "alert";
    case "ExpectNoAlert":
      return "no alert";
    default:
      return undefined;
  }
}

function fits(ctx: CheckContext, ex: Expectation, kind: TestInputKind): void {
  const word = expectationWord(ex);
  const allowed = FITS[kind];
  if (word === undefined || !allowed || allowed.includes(word)) return;
  const options = [...allowed.map((w) => `\`expect ${w}\``), "an expression over `result`"];
  report(
    ctx,
    diagnostic("SP2027", ex.span, { expect: `expect ${word}`, input: kind }, {
      hint: `a test with \`${kind}\` input can use ${options.join(", ")}`,
    }),
  );
}
