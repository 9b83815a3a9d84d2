/**
 * Pass: schema declarations. `schema KIND "path"` ties an input kind to a
 * JSON Schema file (path relative to the policy file). Kinds are access,
 * encryption, mesh and event (SP2006); the file must be readable JSON
 * (SP2007) that ajv compiles as JSON Schema 2020-12 (SP2008); one schema per
 * kind across everything loaded (a second path for a kind: SP2021).
 *
 * Each schema gets its own ajv instance, so two schemas with the same `$id`
 * never collide.
 */
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import formatsModule from "ajv-formats";
import type { SchemaDecl, SchemaKind } from "../parser/ast.js";
import type { Span } from "../parser/span.js";
import { utf8Problem } from "../parser/utf8.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { jsonSyntaxProblem } from "../diagnostics/json-syntax.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { report, type CheckContext, type SchemaEntry } from "./context.js";
import { readRegularFileSync } from "./regular-file.js";
import { isNode } from "./sites.js";

const addFormats = formatsModule.default;

export const SCHEMA_KINDS: readonly SchemaKind[] = ["access", "encryption", "mesh", "event"];

/** Far beyond any hand-written schema; a path naming something bigger is a mistake (or /dev/zero's kin). */
const MAX_SCHEMA_BYTES = 16 * 1024 * 1024;

type Loaded = { ok: true; entry: SchemaEntry } | { ok: false; code: "SP2007" | "SP2008"; reason: string };

export function checkSchemaDecls(ctx: CheckContext): void {
  const loaded = new Map<string, Loaded>();
  const firstDecl = new Map<SchemaKind, { abs: string; span: Span }>();
  for (const file of ctx.files) {
    for (const item of Array.isArray(file?.items) ? file.items : []) {
      if (!isNode(item) || item.kind !== "Schema" || !isNode(item.path) || typeof item.path.value !== "string") continue;
      const kind = item.inputKind as SchemaKind;
      if (!SCHEMA_KINDS.includes(kind)) {
        const hint = didYouMean(String(item.inputKind), SCHEMA_KINDS);
        report(ctx, diagnostic("SP2006", item.inputKindSpan ?? item.span, { kind: String(item.inputKind) }, hint ? { hint } : {}));
        continue;
      }
      const abs = path.resolve(path.dirname(String(file.file)), item.path.value);
      const first = firstDecl.get(kind);
      if (first && first.abs !== abs) {
        report(
          ctx,
          diagnostic("SP2021", item.path.span, { what: "schema", name: kind }, {
            hint: `the ${kind} schema is already ${path.relative(path.dirname(String(file.file)), first.abs) || first.abs}; declare one schema per kind`,
            related: [{ message: "first declared here", span: first.span }],
          }),
        );
        continue;
      }
      if (!first) firstDecl.set(kind, { abs, span: item.path.span });
      let result = loaded.get(abs);
      if (!result) loaded.set(abs, (result = load(ctx, abs)));
      if (result.ok) {
        if (!ctx.schemas.has(kind)) ctx.schemas.set(kind, result.entry);
      } else {
        reportFailure(ctx, item, result);
      }
    }
  }
}

/**
 * A schema file's text, as checking reads it by default. Not UTF-8 throws
 * (SP2007): decoded leniently, an `enum` of `"José"` in Latin-1 would become
 * `"Jos\ufffd"` and reject the very inputs it was written for. So does
 * anything but a regular file of at most 16 MiB (regular-file.ts): a FIFO
 * or /dev/zero must not hang a load.
 */
export function readSchemaFile(abs: string): string {
  const bytes = readRegularFileSync(abs, MAX_SCHEMA_BYTES);
  const bad = utf8Problem(bytes);
  if (bad !== undefined) throw new Error(bad);
  return bytes.toString("utf8");
}

function reportFailure(ctx: CheckContext, decl: SchemaDecl, r: { code: "SP2007" | "SP2008"; reason: string }): void {
  report(ctx, diagnostic(r.code, decl.path.span, { path: decl.path.value, reason: r.reason }));
}

function describeReadError(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === "ENOENT") return "no such file";
  if (e?.code === "EACCES") return "permission denied";
  if (e?.code === "EISDIR") return "is a directory";
  return e instanceof Error ? e.message : String(err);
}

function load(ctx: CheckContext, abs: string): Loaded {
  let text: string;
  try {
    text = ctx.readFile(abs);
  } catch (err) {
    return { ok: false, code: "SP2007", reason: describeReadError(err) };
  }
  let schema: unknown;
  const json = typeof text === "string" && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    schema = JSON.parse(json);
  } catch {
    // Not JSON.parse's message: it quotes the text, and a mistyped path may name a file of secrets.
    const at = typeof json === "string" ? jsonSyntaxProblem(json) : null;
    return { ok: false, code: "SP2007", reason: at ? `not JSON (line ${at.line}, column ${at.column}: ${at.message})` : "not JSON" };
  }
  if (typeof schema !== "boolean" && (typeof schema !== "object" || schema === null || Array.isArray(schema))) {
    return { ok: false, code: "SP2008", reason: "a schema is a JSON object (or true/false)" };
  }
  try {
    // Nothing ajv says goes to the console. Without strict mode its only
    // warning is a format it does not know, which it then never checks: an
    // input the author meant to refuse would pass, so that is SP2008.
    const warnings: string[] = [];
    const logger = { log: () => {}, warn: (...a: unknown[]) => void warnings.push(a.map(String).join(" ")), error: () => {} };
    const ajv = new Ajv2020({ strict: false, allErrors: true, logger });
    addFormats(ajv);
    const validate = ajv.compile(schema as object);
    if (warnings.length > 0) return { ok: false, code: "SP2008", reason: warnings[0]!.replace(/ ignored in schema at path "(.*)"$/, " at $1") };
    // An $async validator answers with a promise: inputs are judged synchronously, before any rule.
    if ((validate as { $async?: unknown }).$async === true) return { ok: false, code: "SP2008", reason: "`$async` schemas are not supported (inputs are validated synchronously)" };
    return { ok: true, entry: { path: abs, schema, validate } };
  } catch (err) {
    if (err instanceof RangeError) return { ok: false, code: "SP2008", reason: "too deeply nested, or a `$ref` cycle" };
    return { ok: false, code: "SP2008", reason: err instanceof Error ? err.message : String(err) };
  }
}
