/**
 * Pass: consts. A const is visible in every file of its package (declared,
 * else the file stem). This pass builds the table (SP2005 for a second
 * definition), finds cycles (SP2004, once per cycle, the cycle spelled out)
 * and folds every const that can be folded. Names inside const bodies are
 * resolved by the names pass like any other expression.
 */
import type { ConstDecl } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { report, type CheckContext, type ConstEntry } from "./context.js";
import { fold, NOT_CONSTANT, type Folded } from "./fold.js";
import { isNode, walkExpr } from "./sites.js";
import type { ConstValue } from "./values.js";

export function checkConsts(ctx: CheckContext): void {
  collect(ctx);
  const cyclic = findCycles(ctx);
  foldAll(ctx, cyclic);
}

function collect(ctx: CheckContext): void {
  for (const file of ctx.files) {
    const pkg = ctx.pkgOf(file);
    for (const item of Array.isArray(file?.items) ? file.items : []) {
      if (!isNode(item) || item.kind !== "Const" || typeof item.name !== "string") continue;
      let table = ctx.consts.get(pkg);
      if (!table) ctx.consts.set(pkg, (table = new Map()));
      const first = table.get(item.name);
      if (first) {
        report(
          ctx,
          diagnostic("SP2005", item.nameSpan, { name: item.name }, {
            hint: `rename one of them; consts are shared by every file of package \`${pkg}\``,
            related: [{ message: "first defined here", span: first.decl.nameSpan }],
          }),
        );
        continue;
      }
      table.set(item.name, { decl: item, file, pkg });
    }
  }
}

/** The consts a const's body reads (same package), in source order, without repeats. */
function dependencies(ctx: CheckContext, entry: ConstEntry): ConstEntry[] {
  const table = ctx.consts.get(entry.pkg);
  const out: ConstEntry[] = [];
  const seen = new Set<string>();
  if (!table || !isNode(entry.decl.value)) return out;
  walkExpr(entry.decl.value, (e) => {
    if (e.kind === "Name" && !seen.has(e.name)) {
      const dep = table.get(e.name);
      if (dep) {
        seen.add(e.name);
        out.push(dep);
      }
    }
  });
  return out;
}

/**
 * Tarjan's strongly connected components, iteratively (a long chain of
 * consts must not overflow the stack). Returns the consts on a cycle.
 */
function findCycles(ctx: CheckContext): Set<ConstDecl> {
  const cyclic = new Set<ConstDecl>();
  const entries: ConstEntry[] = [];
  for (const table of ctx.consts.values()) entries.push(...table.values());
  const deps = new Map<ConstEntry, ConstEntry[]>();
  for (const e of entries) deps.set(e, dependencies(ctx, e));

  const index = new Map<ConstEntry, number>();
  const low = new Map<ConstEntry, number>();
  const onStack = new Set<ConstEntry>();
  const stack: ConstEntry[] = [];
  let next = 0;

  for (const start of entries) {
    if (index.has(start)) continue;
    const work: { node: ConstEntry; i: number }[] = [{ node: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const ds = deps.get(top.node)!;
      if (top.i < ds.length) {
        const d = ds[top.i++]!;
        if (!index.has(d)) {
          index.set(d, next);
          low.set(d, next++);
          stack.push(d);
          onStack.add(d);
          work.push({ node: d, i: 0 });
        } else if (onStack.has(d)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(d)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const scc: ConstEntry[] = [];
        let x: ConstEntry;
        do {
          x = stack.pop()!;
          onStack.delete(x);
          scc.push(x);
        } while (x !== top.node);
        const selfLoop = scc.length === 1 && deps.get(scc[0]!)!.includes(scc[0]!);
        if (scc.length > 1 || selfLoop) reportCycle(ctx, scc, deps, cyclic);
      }
    }
  }
  return cyclic;
}

/** At most this many names spell out a cycle in SP2004. */
const MAX_CYCLE_NAMES = 12;

function reportCycle(ctx: CheckContext, scc: ConstEntry[], deps: Map<ConstEntry, ConstEntry[]>, cyclic: Set<ConstDecl>): void {
  for (const e of scc) cyclic.add(e.decl);
  const members = new Set(scc);
  // Report at the first definition in source order, and spell out one cycle through it.
  const first = scc.slice().sort((a, b) =>
    a.file.file === b.file.file ? a.decl.span.start - b.decl.span.start : a.file.file < b.file.file ? -1 : 1,
  )[0]!;
  const prev = new Map<ConstEntry, ConstEntry>();
  const queue: ConstEntry[] = [first];
  let closing: ConstEntry | undefined;
  for (let qi = 0; qi < queue.length && !closing; qi++) {
    const cur = queue[qi]!;
    for (const d of deps.get(cur)!) {
      if (!members.has(d)) continue;
      if (d === first) {
        closing = cur;
        break;
      }
      if (!prev.has(d)) {
        prev.set(d, cur);
        queue.push(d);
      }
    }
  }
  const path: string[] = [first.decl.name];
  if (closing) {
    const back: string[] = [];
    for (let c: ConstEntry | undefined = closing; c && c !== first; c = prev.get(c)) back.push(c.decl.name);
    path.push(...back.reverse());
  }
  path.push(first.decl.name);
  // A cycle through thousands of consts is named by its ends: the message stays one readable line.
  const cycle = path.length <= MAX_CYCLE_NAMES ? path.join(" -> ") : [...path.slice(0, MAX_CYCLE_NAMES - 2), `... (${path.length - MAX_CYCLE_NAMES + 1} more)`, path[path.length - 1]].join(" -> ");
  report(
    ctx,
    diagnostic("SP2004", first.decl.nameSpan, { name: first.decl.name, cycle }, {
      hint: "a const may only use literals and consts defined without it",
    }),
  );
}

function foldAll(ctx: CheckContext, cyclic: Set<ConstDecl>): void {
  for (const [pkg, table] of ctx.consts) {
    const values = new Map<string, ConstValue>();
    ctx.constValues.set(pkg, values);
    const memo = new Map<string, Folded>();
    const inProgress = new Set<string>();
    const valueOf = (name: string): Folded => {
      const cached = memo.get(name);
      if (cached !== undefined) return cached;
      const entry = table.get(name);
      if (!entry || cyclic.has(entry.decl) || inProgress.has(name)) return NOT_CONSTANT;
      inProgress.add(name);
      let v: Folded;
      try {
        v = fold(entry.decl.value, { name: valueOf });
      } catch {
        v = NOT_CONSTANT; // a pathologically deep chain of consts
      }
      inProgress.delete(name);
      memo.set(name, v);
      return v;
    };
    for (const name of table.keys()) {
      const v = valueOf(name);
      if (v !== NOT_CONSTANT) values.set(name, v);
    }
  }
}
