/**
 * Compiling a checked set of policy files, once per load: consts folded (by
 * our own expression compiler, evaluated with no input, so there is one
 * implementation of the semantics), access rules compiled and indexed,
 * encryption rules and mesh blocks compiled.
 *
 * Load order is the order of `files` (the loader sorts paths), then source
 * order within a file; decisions name the first deciding rule in that order.
 * Consts are visible across the files of their package; roots win over
 * consts of the same name.
 */
import type { ConstDecl, Expr, PolicyFile } from "../parser/ast.js";
import { packageOf, ruleId } from "../parser/ast.js";
import { ExprCompiler, toErrorSpan, type ExprScope } from "./compile-expr.js";
import { compileAccessRule, type CompiledAccessRule } from "./access.js";
import { compileEncryptionRule, type CompiledEncryptionRule } from "./encryption.js";
import { compileMesh, type CompiledMesh } from "./mesh.js";
import { indexKeyOf, RuleIndex, type IndexKey } from "./rule-index.js";
import { AccessCodegen } from "./codegen.js";
import { EvalError, type Result } from "./values.js";
import { walkExpr } from "../checker/sites.js";
import { runSteps, type Steps } from "../steps.js";

export const ACCESS_ROOTS: ReadonlySet<string> = new Set(["principal", "action", "resource", "context", "now"]);
export const ENCRYPTION_ROOTS: ReadonlySet<string> = new Set(["data", "now"]);
export const MESH_ROOTS: ReadonlySet<string> = new Set(["node", "now"]);
const NO_ROOTS: ReadonlySet<string> = new Set();

export interface CompiledPolicySet {
  access: CompiledAccessRule[];
  index: RuleIndex;
  /** `default` last. */
  encryption: CompiledEncryptionRule[];
  meshes: CompiledMesh[];
  /** Every rule id (access, encryption, mesh, detect) in load order. */
  ruleIds: string[];
}

/** Folds the consts of every package on demand, each once. */
export class ConstTable {
  private readonly decls = new Map<string, Map<string, ConstDecl>>();
  private readonly values = new Map<ConstDecl, Result>();
  private readonly folding = new Set<ConstDecl>();

  constructor(files: readonly PolicyFile[]) {
    for (const f of files) {
      const pkg = packageOf(f);
      let m = this.decls.get(pkg);
      if (!m) this.decls.set(pkg, (m = new Map()));
      for (const item of f.items) if (item.kind === "Const" && !m.has(item.name)) m.set(item.name, item);
    }
  }

  /** The folded value of const `name` in package `pkg`, undefined when there is none. */
  value(pkg: string, name: string): Result | undefined {
    const decl = this.decls.get(pkg)?.get(name);
    if (decl === undefined) return undefined;
    const done = this.values.get(decl);
    if (done !== undefined) return done;
    if (this.folding.has(decl)) return new EvalError(`const \`${name}\` depends on itself`, toErrorSpan(decl.nameSpan));
    // The consts it reads first, deepest first: compiling one then finds the others folded, so a
    // chain of thousands of consts (c1 = c0 + 1, c2 = c1 + 1, ...) never recurses through the chain.
    if (this.folding.size === 0) this.foldDependencies(pkg, decl);
    this.folding.add(decl);
    const c = new ExprCompiler(this.scope(pkg, NO_ROOTS)).compile(decl.value);
    this.folding.delete(decl);
    const v = c.constant ? c.value : new EvalError(`const \`${name}\` is not a constant expression`, toErrorSpan(decl.value.span));
    this.values.set(decl, v);
    return v;
  }

  /**
   * Folds the consts `root` reads, directly or not, in post-order with an
   * explicit stack. A const met again on the current path closes a cycle: it
   * gets the "depends on itself" error at once (the checker reports SP2004),
   * so no fold walks round the cycle.
   */
  private foldDependencies(pkg: string, root: ConstDecl): void {
    const decls = this.decls.get(pkg)!;
    const reads = (d: ConstDecl): ConstDecl[] => {
      const out: ConstDecl[] = [];
      walkExpr(d.value, (e) => {
        if (e.kind !== "Name") return;
        const dep = decls.get(e.name);
        if (dep !== undefined && !this.values.has(dep)) out.push(dep);
      });
      return out;
    };
    const onPath = new Set<ConstDecl>([root]);
    const seen = new Set<ConstDecl>([root]);
    const stack: { decl: ConstDecl; deps: ConstDecl[]; next: number }[] = [{ decl: root, deps: reads(root), next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.deps.length) {
        const dep = top.deps[top.next++]!;
        if (this.values.has(dep)) continue;
        if (onPath.has(dep)) this.values.set(dep, new EvalError(`const \`${dep.name}\` depends on itself`, toErrorSpan(dep.nameSpan)));
        else if (!seen.has(dep)) {
          seen.add(dep);
          onPath.add(dep);
          stack.push({ decl: dep, deps: reads(dep), next: 0 });
        }
        continue;
      }
      stack.pop();
      onPath.delete(top.decl);
      if (top.decl !== root && !this.values.has(top.decl)) this.value(pkg, top.decl.name);
    }
  }

  scope(pkg: string, roots: ReadonlySet<string>): ExprScope {
    return { roots, constValue: (name) => this.value(pkg, name) };
  }
}

export interface CompileOptions {
  /**
   * Generate JavaScript for access rules (default true). Off, every rule runs
   * as closures: the same semantics, slower (for environments that forbid
   * `new Function`, and for tests).
   */
  generate?: boolean;
}

export function compilePolicySet(files: readonly PolicyFile[], options: CompileOptions = {}): CompiledPolicySet {
  return runSteps(compilePolicySetSteps(files, options));
}

/** Items compiled between two steps of compilePolicySetSteps. */
const ITEMS_PER_STEP = 256;

/** `compilePolicySet` in steps (src/steps.ts): every ITEMS_PER_STEP items and each file's end, then the generated code, then the index. */
export function* compilePolicySetSteps(files: readonly PolicyFile[], options: CompileOptions = {}): Steps<CompiledPolicySet> {
  const consts = new ConstTable(files);
  const access: CompiledAccessRule[] = [];
  const keys: IndexKey[] = [];
  const encryption: CompiledEncryptionRule[] = [];
  let defaultRule: CompiledEncryptionRule | null = null;
  const meshes: CompiledMesh[] = [];
  const ruleIds: string[] = [];
  const codegen = options.generate === false ? null : new AccessCodegen();
  const compilers = new Map<string, ExprCompiler>();
  for (const file of files) {
    const pkg = packageOf(file);
    let compiler = compilers.get(pkg);
    if (!compiler) compilers.set(pkg, (compiler = new ExprCompiler(consts.scope(pkg, ACCESS_ROOTS))));
    const accessCompiler = compiler;
    let n = 0;
    for (const item of file.items) {
      if (++n % ITEMS_PER_STEP === 0) yield;
      switch (item.kind) {
        case "AccessRule": {
          const rule = compileAccessRule(file, item, access.length, accessCompiler);
          access.push(rule);
          const key = indexKeyOf(item, (e: Expr) => accessCompiler.constantOf(e));
          keys.push(key);
          codegen?.add(rule, accessCompiler, key.tests);
          ruleIds.push(rule.id);
          break;
        }
        case "EncryptionRule": {
          const rule = compileEncryptionRule(file, item, consts.scope(pkg, ENCRYPTION_ROOTS));
          if (rule.isDefault) defaultRule ??= rule;
          else encryption.push(rule);
          ruleIds.push(rule.id);
          break;
        }
        case "Mesh":
          meshes.push(compileMesh(file, item, consts.scope(pkg, MESH_ROOTS)));
          ruleIds.push(ruleId(file, item));
          break;
        case "Detect":
          ruleIds.push(ruleId(file, item));
          break;
        default:
          break;
      }
    }
    yield;
  }
  if (defaultRule !== null) encryption.push(defaultRule);
  if (codegen !== null) {
    const fns = codegen.build();
    access.forEach((r, i) => {
      r.run = fns[i]!;
      // Nothing skipped: the generated function serves every request.
      if (keys[i]!.tests.length === 0) r.runFull = r.run;
    });
    yield;
  }
  return { access, index: new RuleIndex(access, keys), encryption, meshes, ruleIds };
}
