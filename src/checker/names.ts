/**
 * Pass: names and functions. Every bare name is a root bound in its block, a
 * const of the package, or (inside `detect`) the first segment of an event
 * field path; anything else is SP2001 (unknown), SP2025 (a root of another
 * block) or, in a constant position, SP2015. Calls must name a builtin
 * (SP2002) with the right number of arguments (SP2011).
 *
 * Roots win over consts in the blocks that bind them: a const named
 * `action` cannot silently replace the request's action in an access rule.
 */
import type { CallExpr, NameRef } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { lookupConst, report, type CheckContext } from "./context.js";
import { BLOCK_ROOTS, BUILTINS, INPUT_ROOTS, blockLabel, isBuiltin, whereRootIsBound } from "./scopes.js";
import { walkExpr, type ExprSite } from "./sites.js";

export function checkNames(ctx: CheckContext): void {
  for (const site of ctx.sites) {
    walkExpr(site.expr, (e) => {
      if (e.kind === "Name") resolveName(ctx, site, e);
      else if (e.kind === "Call") checkCall(ctx, site, e);
    });
  }
}

/** Spec section 1: there is no null literal; absence is handled with `has` and `??`. */
const NO_NULL_HINT = "there is no null literal: test presence with `has` (`context has x`), give a default with `??` (`context.x ?? false`)";
const NO_NULL_HINTS = new Map([["null", NO_NULL_HINT], ["nil", NO_NULL_HINT], ["None", NO_NULL_HINT], ["undefined", NO_NULL_HINT]]);

function constNames(ctx: CheckContext, site: ExprSite): string[] {
  const table = ctx.consts.get(ctx.pkgOf(site.file));
  return table ? [...table.keys()] : [];
}

function resolveName(ctx: CheckContext, site: ExprSite, ref: NameRef): void {
  const name = ref.name;
  if (typeof name !== "string") return;
  const roots = BLOCK_ROOTS[site.block];
  if (roots.includes(name)) return;
  const c = lookupConst(ctx, site.file, name);
  if (c) {
    ctx.usedConsts.add(c.decl);
    return;
  }
  if (site.block === "detect") return; // an event field path: user.name, source.ip
  if (site.block === "constant") {
    if (INPUT_ROOTS.has(name) || site.inDetect) {
      const what = site.inDetect && !INPUT_ROOTS.has(name) ? `\`${name}\` reads the event` : `\`${name}\` reads the input`;
      report(
        ctx,
        diagnostic("SP2015", ref.span, { thing: site.constant ?? "this" }, {
          hint: `${what}; only literals, consts and pure functions are allowed here`,
        }),
      );
      return;
    }
    report(ctx, diagnostic("SP2001", ref.span, { name }, withHint(NO_NULL_HINTS.get(name) ?? didYouMean(name, constNames(ctx, site)))));
    return;
  }
  if (INPUT_ROOTS.has(name)) {
    const where = whereRootIsBound(name);
    report(
      ctx,
      diagnostic("SP2025", ref.span, { name, block: blockLabel(site.block) }, {
        hint: `${blockLabel(site.block)} can read ${describeRoots(roots)}${where ? `; \`${name}\` belongs to ${where}` : ""}`,
      }),
    );
    return;
  }
  const candidates = [...roots, ...constNames(ctx, site)];
  report(ctx, diagnostic("SP2001", ref.span, { name }, withHint(NO_NULL_HINTS.get(name) ?? didYouMean(name, candidates) ?? `names here: ${describeRoots(roots)} and the package's consts`)));
}

function describeRoots(roots: readonly string[]): string {
  if (roots.length === 0) return "no input";
  return roots.map((r) => `\`${r}\``).join(", ");
}

function withHint(hint: string | undefined): { hint?: string } {
  return hint === undefined ? {} : { hint };
}

function checkCall(ctx: CheckContext, site: ExprSite, call: CallExpr): void {
  const name = call.callee;
  if (typeof name !== "string") return;
  const args = Array.isArray(call.args) ? call.args : [];
  if (!isBuiltin(name)) {
    report(
      ctx,
      diagnostic("SP2002", call.calleeSpan ?? call.span, { name }, withHint(didYouMean(name, Object.keys(BUILTINS)) ?? `functions: ${Object.keys(BUILTINS).join(", ")}`)),
    );
    return;
  }
  const b = BUILTINS[name]!;
  if (args.length !== b.params.length) {
    report(ctx, diagnostic("SP2011", call.span, { name, expected: b.params.length, actual: args.length }));
  }
  if (site.block === "constant" && b.readsInput) {
    report(
      ctx,
      diagnostic("SP2015", call.calleeSpan ?? call.span, { thing: site.constant ?? "this" }, {
        hint: `${b.readsInput}; only literals, consts and pure functions are allowed here`,
      }),
    );
  }
}
