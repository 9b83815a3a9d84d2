/**
 * The state the checker's passes share: the files, the diagnostics collected
 * so far (errors and lint warnings kept apart), the const table and the
 * compiled schemas. Passes read earlier passes' tables and only ever add.
 */
import type { ValidateFunction } from "ajv";
import { packageOf, type ConstDecl, type PolicyFile, type SchemaKind } from "../parser/ast.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { fileSites, type ExprSite } from "./sites.js";
import type { ConstValue } from "./values.js";

export interface CheckOptions {
  /** Run the SP3xxx lint passes (default true). */
  lint?: boolean;
  /** Reads schema files; default `readSchemaFile` (UTF-8 only). Throws if missing. */
  readFile?: (absPath: string) => string;
}

export interface ConstEntry {
  decl: ConstDecl;
  file: PolicyFile;
  pkg: string;
}

export interface SchemaEntry {
  /** Absolute path of the schema file. */
  path: string;
  schema: unknown;
  validate: ValidateFunction;
}

export interface CheckContext {
  files: PolicyFile[];
  lint: boolean;
  readFile: (absPath: string) => string;
  /** SP2xxx (and anything of severity error). */
  errors: Diagnostic[];
  /** SP3xxx, before `lint:ignore` filtering. */
  warnings: Diagnostic[];
  /** Every expression site of every file, in file order. */
  sites: ExprSite[];
  pkgOf: (file: PolicyFile) => string;
  /** package -> name -> first definition. */
  consts: Map<string, Map<string, ConstEntry>>;
  /** package -> name -> folded value (consts that fold). */
  constValues: Map<string, Map<string, ConstValue>>;
  /** Consts read by some expression (for SP3003). */
  usedConsts: Set<ConstDecl>;
  schemas: Map<SchemaKind, SchemaEntry>;
}

export function createContext(files: PolicyFile[], options: CheckOptions, readFile: (p: string) => string): CheckContext {
  const pkgCache = new Map<PolicyFile, string>();
  const pkgOf = (file: PolicyFile): string => {
    let p = pkgCache.get(file);
    if (p === undefined) {
      try {
        p = packageOf(file);
      } catch {
        p = String(file?.file ?? "");
      }
      pkgCache.set(file, p);
    }
    return p;
  };
  const sites: ExprSite[] = [];
  for (const f of files) {
    try {
      sites.push(...fileSites(f));
    } catch {
      // a mangled file contributes what could be read before the damage
    }
  }
  return {
    files,
    lint: options.lint !== false,
    readFile,
    errors: [],
    warnings: [],
    sites,
    pkgOf,
    consts: new Map(),
    constValues: new Map(),
    usedConsts: new Set(),
    schemas: new Map(),
  };
}

/** The const `name` visible from `file` (same package), if any. */
export function lookupConst(ctx: CheckContext, file: PolicyFile, name: string): ConstEntry | undefined {
  return ctx.consts.get(ctx.pkgOf(file))?.get(name);
}

/** The folded value of const `name` visible from `file`, if it folds. */
export function constValueOf(ctx: CheckContext, file: PolicyFile, name: string): ConstValue | undefined {
  return ctx.constValues.get(ctx.pkgOf(file))?.get(name);
}

/** Add an error or a warning according to its severity. */
export function report(ctx: CheckContext, d: Diagnostic): void {
  if (d.severity === "warning") ctx.warnings.push(d);
  else ctx.errors.push(d);
}
