/**
 * Pass: test blocks (spec section 8). Test names are unique per package
 * (SP2021); the input is an object literal (`events`: a JSONL path or a list
 * of object literals) (SP2028); each expectation fits the input kind
 * (SP2027); `expect alert "x"` names a detect rule by name or id (SP2030).
 */
import type { Expectation, Expr, PolicyFile, TestBlock, TestInputKind } from "../parser/ast.js";
import type { Span } from "../parser/span.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { constValueOf, report, type CheckContext } from "./context.js";
import { fold, NOT_CONSTANT } from "./fold.js";
import { allRules } from "./rule-ids.js";
import { isNode, isStringLit, unparen } from "./sites.js";
import { isPlainObject } from "./values.js";

/** What each input kind can expect, besides an expression over `result`. */
const FITS: Record<TestInputKind, readonly string[]> = {
  access: ["allow", "deny", "challenge"],
  mesh: ["admit", "reject"],
  events: ["alert", "no alert"],
  encryption: [],
};

export function checkTests(ctx: CheckContext): void {
  const detectNames = new Set<string>();
  for (const { rule, file } of allRules(ctx)) {
    if (rule.kind !== "Detect" || typeof rule.name !== "string") continue;
    detectNames.add(rule.name);
    detectNames.add(`${ctx.pkgOf(file)}/${rule.name}`);
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
      checkTest(ctx, file, item, detectNames);
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

function checkTest(ctx: CheckContext, file: PolicyFile, test: TestBlock, detectNames: Set<string>): void {
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
    if (ex.kind === "ExpectAlert" && isStringLit(ex.rule) && !detectNames.has(ex.rule.value)) {
      const hint = didYouMean(ex.rule.value, detectNames);
      report(ctx, diagnostic("SP2030", ex.rule.span, { name: ex.rule.value }, { hint: hint ?? "name a detect rule by its name or its id `package/name`" }));
    }
  }
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
