/**
 * Pass: rule identity. Every rule's id `package/name` is unique across
 * everything loaded (SP2003, pointing back at the first definition); there is
 * at most one `encryption default` overall (SP2026); a tags list names each
 * control once (SP2021).
 */
import { type Item, type NamedRule, type PolicyFile } from "../parser/ast.js";
import type { Span } from "../parser/span.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { report, type CheckContext } from "./context.js";
import { isNode, isStringLit } from "./sites.js";

export function isNamedRule(item: Item): item is NamedRule {
  return isNode(item) && (item.kind === "AccessRule" || item.kind === "EncryptionRule" || item.kind === "Mesh" || item.kind === "Detect");
}

/** Every rule of every file, with its file, in load order. */
export function allRules(ctx: CheckContext): { rule: NamedRule; file: PolicyFile }[] {
  const out: { rule: NamedRule; file: PolicyFile }[] = [];
  for (const file of ctx.files) {
    for (const item of Array.isArray(file?.items) ? file.items : []) if (isNamedRule(item)) out.push({ rule: item, file });
  }
  return out;
}

/** A rule's display name: its name, or `default`. */
export function ruleName(rule: NamedRule): string {
  return rule.kind === "EncryptionRule" && rule.name === null ? "default" : String(rule.name);
}

export function checkRuleIds(ctx: CheckContext): void {
  const ids = new Map<string, { span: Span; isDefault: boolean }>();
  let firstDefault: Span | undefined;
  for (const { rule, file } of allRules(ctx)) {
    checkDuplicateTags(ctx, rule);
    const isDefault = rule.kind === "EncryptionRule" && rule.name === null;
    const span = rule.nameSpan ?? rule.span;
    if (isDefault) {
      if (firstDefault) {
        report(
          ctx,
          diagnostic("SP2026", span, {}, {
            hint: "merge the defaults into one block",
            related: [{ message: "the first default is here", span: firstDefault }],
          }),
        );
      } else {
        firstDefault = span;
      }
    }
    if (typeof rule.name !== "string" && !isDefault) continue;
    const id = `${ctx.pkgOf(file)}/${ruleName(rule)}`;
    const first = ids.get(id);
    if (!first) {
      ids.set(id, { span, isDefault });
    } else if (!(isDefault && first.isDefault)) {
      // two defaults are SP2026's to report; anything else sharing an id is a duplicate
      report(
        ctx,
        diagnostic("SP2003", span, { id }, {
          hint: "rule names must be unique within a package; rename this rule",
          related: [{ message: "first defined here", span: first.span }],
        }),
      );
    }
  }
}

function checkDuplicateTags(ctx: CheckContext, rule: NamedRule): void {
  for (const c of Array.isArray(rule.clauses) ? rule.clauses : []) {
    if (!isNode(c) || c.kind !== "Tags" || !Array.isArray(c.tags) || c.tags.length < 2) continue;
    const seen = new Set<string>();
    for (const tag of c.tags) {
      if (!isStringLit(tag)) continue;
      if (seen.has(tag.value)) report(ctx, diagnostic("SP2021", tag.span, { what: "tag", name: tag.value }, { hint: "list each control once" }));
      seen.add(tag.value);
    }
  }
}
