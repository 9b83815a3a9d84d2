/**
 * Consts whose folded value is an evaluation error (docs/language.md,
 * `const`: "an error in a const is a load-time diagnostic, not an
 * evaluation error"). The checker reports what types and literals show
 * (SP2012, SP2020); some errors depend on the values themselves: a division
 * by zero (`5m / 0`), a string that is not an address tested against an IP
 * range (`"prod" in ip("10.0.0.0/8")`). Those folded silently to an error
 * value, so `check` passed and every rule reading the const errored on
 * every request: a deny rule denied everything it was reached for.
 *
 * The consts are folded here as the compiler folds them (ConstTable), so
 * the diagnostic says what evaluation would; it runs only on a set without
 * errors (a recovered or ill-typed tree is not folded). A const that errors
 * only because a const it reads does is left to that one's diagnostic.
 */
import type { ConstDecl, PolicyFile } from "../parser/ast.js";
import { packageOf } from "../parser/ast.js";
import { diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { walkExpr } from "../checker/sites.js";
import { ConstTable } from "./compile.js";
import { EvalError } from "./values.js";

export function constErrors(files: readonly PolicyFile[]): Diagnostic[] {
  const table = new ConstTable(files);
  const out: Diagnostic[] = [];
  const failed = new Set<string>();
  const decls: { pkg: string; decl: ConstDecl }[] = [];
  for (const f of files) {
    const pkg = packageOf(f);
    for (const item of f.items) if (item.kind === "Const") decls.push({ pkg, decl: item });
  }
  for (const { pkg, decl } of decls) {
    const v = table.value(pkg, decl.name);
    if (v instanceof EvalError) failed.add(`${pkg}\u0000${decl.name}`);
  }
  for (const { pkg, decl } of decls) {
    if (!failed.has(`${pkg}\u0000${decl.name}`)) continue;
    let inherited = false;
    walkExpr(decl.value, (e) => {
      if (e.kind === "Name" && e.name !== decl.name && failed.has(`${pkg}\u0000${e.name}`)) inherited = true;
    });
    if (inherited) continue;
    const err = table.value(pkg, decl.name) as EvalError;
    out.push(diagnostic("SP2033", decl.value.span, { name: decl.name, reason: err.message }));
  }
  return out;
}
