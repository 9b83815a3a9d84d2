/**
 * Lint SP3005: a mesh `connect` naming a tag that the mesh's admission never
 * lets in, so the connection can never carry traffic (usually a typo such
 * as "schedular"). The admitted tags are read from the `when` clauses:
 * `node.tags contains "x"`, `node.tags contains_any [...]` /
 * `contains_all [...]` and `"x" in node.tags`. A mesh whose `when`s say
 * nothing about tags admits any tag, so then nothing is reported; so does
 * one whose tag test reads its tags from the input (`node.tags contains
 * node.role`), since any tag may pass it, and one with a tag test on one
 * side of an `or` only (`node.tags contains "w" or node.attested`).
 */
import type { Expr, MeshBlock, PolicyFile } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { constValueOf, report, type CheckContext } from "./context.js";
import { fold, NOT_CONSTANT } from "./fold.js";
import { attributePath, isNode, isStringLit, walkExpr } from "./sites.js";
import type { ConstValue } from "./values.js";

export function lintMeshConnect(ctx: CheckContext): void {
  for (const file of ctx.files) {
    for (const item of Array.isArray(file?.items) ? file.items : []) {
      if (isNode(item) && item.kind === "Mesh") lintMesh(ctx, file, item);
    }
  }
}

function isNodeTags(e: Expr): boolean {
  const p = attributePath(e);
  return !!p && p.root.name === "node" && p.segments.length === 1 && p.segments[0]!.kind === "prop" && p.segments[0]!.name === "tags";
}

/** Whether a tag test (`node.tags contains ...`, `... in node.tags`) occurs in `e`. */
function hasTagTest(e: Expr): boolean {
  let found = false;
  walkExpr(e, (x) => {
    if (found) return false;
    if (x.kind === "Binary" && isNode(x.left) && isNode(x.right)) {
      if ((x.op === "contains" || x.op === "contains_any" || x.op === "contains_all") && isNodeTags(x.left)) found = true;
      else if (x.op === "in" && isNodeTags(x.right)) found = true;
    }
    return !found;
  });
  return found;
}

function admittedTags(ctx: CheckContext, file: PolicyFile, mesh: MeshBlock): Set<string> | undefined {
  const constant = (e: Expr): ConstValue | undefined => {
    const v = fold(e, { name: (n) => (n === "node" || n === "now" ? NOT_CONSTANT : (constValueOf(ctx, file, n) ?? NOT_CONSTANT)) });
    return v === NOT_CONSTANT ? undefined : v;
  };
  const tags = new Set<string>();
  let sawTagCondition = false;
  let anyTag = false;
  const addAll = (v: ConstValue | undefined) => {
    if (v === undefined) anyTag = true; // not a constant: which tags it admits is known only per node
    else if (typeof v === "string") tags.add(v);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === "string") tags.add(x);
  };
  for (const c of Array.isArray(mesh.clauses) ? mesh.clauses : []) {
    if (!isNode(c) || c.kind !== "When" || !isNode(c.expr)) continue;
    walkExpr(c.expr, (e) => {
      if (e.kind === "Unary" && e.op === "not") return false; // a negated tag test admits nothing
      if (e.kind !== "Binary" || !isNode(e.left) || !isNode(e.right)) return true;
      // `node.tags contains "w" or node.attested`: the side without a tag test admits any tag.
      if (e.op === "or" && (!hasTagTest(e.left) || !hasTagTest(e.right))) {
        anyTag = true;
        return false;
      }
      if ((e.op === "contains" || e.op === "contains_any" || e.op === "contains_all") && isNodeTags(e.left)) {
        sawTagCondition = true;
        addAll(constant(e.right));
      } else if (e.op === "in" && isNodeTags(e.right)) {
        sawTagCondition = true;
        addAll(constant(e.left));
      }
      return true;
    });
  }
  return sawTagCondition && !anyTag ? tags : undefined;
}

function lintMesh(ctx: CheckContext, file: PolicyFile, mesh: MeshBlock): void {
  const admitted = admittedTags(ctx, file, mesh);
  if (!admitted) return;
  for (const c of Array.isArray(mesh.clauses) ? mesh.clauses : []) {
    if (!isNode(c) || c.kind !== "Connect") continue;
    for (const end of [c.from, c.to]) {
      if (!isStringLit(end) || end.value === "*" || admitted.has(end.value)) continue;
      const hint = didYouMean(end.value, admitted) ?? `admitted tags: ${[...admitted].sort().join(", ") || "none"}`;
      report(ctx, diagnostic("SP3005", end.span, { tag: end.value, mesh: mesh.name }, { hint }));
    }
  }
}
