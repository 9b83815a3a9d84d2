/**
 * Mesh admission of one node (spec/LANGUAGE.md section 6): `admit` when the
 * node's public key is well formed, every `when` holds, no `unless` holds and
 * every `require` (and `require key_age`) holds; else `reject` with reasons.
 *
 * Choices where the spec is silent:
 * - Which mesh: the input's `mesh` field (a block name, `swarm`, or id,
 *   `pkg/swarm`) when given; else the only mesh block loaded. With several
 *   and none named, or a name that matches none, the node is rejected with
 *   an error.
 * - The public key is checked first: a string of 44 base64 characters
 *   (standard alphabet, one `=`) that decodes to exactly 32 bytes, the form
 *   `wg genkey | wg pubkey` prints. Anything else is rejected with the
 *   reason "public key is not 32 bytes of base64".
 * - Clauses run in source order and stop at the first that fails, as a rule
 *   does in section 3: one reason per rejection. A false `when` gives
 *   "`when EXPR` does not hold", a true `unless` gives "`unless EXPR` holds",
 *   an unmet `require` its `else` message or "requirement not met: `EXPR`".
 * - `require key_age within D` reads `node.key_created_at` (RFC 3339 or
 *   epoch seconds): absent is an error ("missing attribute"), unreadable is
 *   an error, and so is a time more than 5 minutes after now (its age is
 *   unknown), older than D is the `else` message or "WireGuard key is older
 *   than D". Errors reject (fail closed) with the reason "evaluation error;
 *   rejected to fail closed".
 */
import type { MeshBlock, PolicyFile } from "../parser/ast.js";
import { ruleId } from "../parser/ast.js";
import { ExprCompiler, toErrorSpan, type Eval, type ExprScope } from "./compile-expr.js";
import type { EvalContext } from "./context.js";
import type { ClauseTrace, MeshDecision, MeshReason, NotApplied, RuleTrace } from "./decision.js";
import { exprText } from "./expr-text.js";
import { msg, reasonText, show } from "./messages.js";
import { decisionError, quotingError } from "./quoted-error.js";
import { MAX_CLOCK_SKEW_MS, timeValueMs } from "./time.js";
import { EvalError, traceJson, typeName, type ErrorSpan } from "./values.js";

type MeshClauseKind = "when" | "unless" | "require" | "require key_age";

interface CompiledMeshClause {
  kind: MeshClauseKind;
  fn: Eval;
  span: ErrorSpan;
  exprSpan: ErrorSpan;
  keyAgeMs: number;
  failure: MeshReason;
  notApplied: NotApplied | null;
}

export interface CompiledMesh {
  id: string;
  name: string;
  clauses: CompiledMeshClause[];
}

const NOOP: Eval = () => null;

export function compileMesh(file: PolicyFile, block: MeshBlock, scope: ExprScope): CompiledMesh {
  const id = ruleId(file, block);
  const compiler = new ExprCompiler(scope);
  const clauses: CompiledMeshClause[] = [];
  for (const cl of block.clauses) {
    const span = toErrorSpan(cl.span);
    switch (cl.kind) {
      case "When":
      case "Unless": {
        const when = cl.kind === "When";
        const text = exprText(cl.expr);
        clauses.push({
          kind: when ? "when" : "unless",
          fn: compiler.compile(cl.expr).fn,
          span,
          exprSpan: toErrorSpan(cl.expr.span),
          keyAgeMs: 0,
          failure: Object.freeze({ rule: id, message: when ? `\`when ${text}\` does not hold` : `\`unless ${text}\` holds` }),
          notApplied: Object.freeze({ rule: id, clause: when ? "when" : "unless", span }) as NotApplied,
        });
        break;
      }
      case "Require":
        clauses.push({
          kind: "require",
          fn: compiler.compile(cl.expr).fn,
          span,
          exprSpan: toErrorSpan(cl.expr.span),
          keyAgeMs: 0,
          failure: Object.freeze({ rule: id, message: cl.message?.value ?? reasonText.requireUnmet(exprText(cl.expr)) }),
          notApplied: null,
        });
        break;
      case "RequireKeyAge":
        clauses.push({
          kind: "require key_age",
          fn: NOOP,
          span,
          exprSpan: span,
          keyAgeMs: cl.within.ms,
          failure: Object.freeze({ rule: id, message: cl.message?.value ?? `WireGuard key is older than ${cl.within.raw}` }),
          notApplied: null,
        });
        break;
      default:
        break; // network, listen_port, keepalive, connect: planning, not admission
    }
  }
  return { id, name: block.name, clauses };
}

/** 44 base64 characters decoding to 32 bytes: the last character carries 4 bits (low 2 zero). */
const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function isWireGuardKey(v: unknown): boolean {
  return typeof v === "string" && WG_KEY.test(v);
}

export const BAD_KEY_MESSAGE = "public key is not 32 bytes of base64";

const hasOwn = Object.prototype.hasOwnProperty;

function keyAge(c: EvalContext, cl: CompiledMeshClause): boolean | EvalError {
  const node = c.input["node"] as Record<string, unknown>;
  const at = hasOwn.call(node, "key_created_at") ? node["key_created_at"] : undefined;
  if (at === undefined) return new EvalError(msg.missingAttribute("node.key_created_at"), cl.span, true);
  const ms = timeValueMs(at);
  if (ms !== ms) return quotingError((found) => msg.keyTime("node.key_created_at", found), show(at), cl.span);
  const now = c.now();
  if (now !== now) return new EvalError(msg.nowUnavailable(), cl.span);
  // A key dated after now (beyond clock skew: a clock set back, a sentinel or forged date) has no
  // known age; as in encryption audits, it is not taken as fresh for ever.
  if (ms - now > MAX_CLOCK_SKEW_MS) return quotingError((found) => msg.keyTimeFuture("node.key_created_at", found), show(at), cl.span);
  return now - ms <= cl.keyAgeMs;
}

export function decideMesh(mesh: CompiledMesh, c: EvalContext, version: string, traces: RuleTrace[] | null): MeshDecision {
  const base = { mesh: mesh.name, rule: mesh.id, version };
  const node = c.input["node"] as Record<string, unknown>;
  const clauses: ClauseTrace[] | null = traces === null ? null : [];
  if (clauses !== null) traces!.push({ rule: mesh.id, effect: "mesh", outcome: "applies", clauses });
  const setOutcome = (o: RuleTrace["outcome"]) => {
    if (traces !== null) traces[traces.length - 1]!.outcome = o;
  };
  const key = hasOwn.call(node, "public_key") ? node["public_key"] : undefined;
  const keyOk = isWireGuardKey(key);
  if (clauses !== null) clauses.push({ clause: "public key", span: null, value: keyOk });
  if (!keyOk) {
    setOutcome("unmet");
    return { decision: "reject", ...base, reasons: [{ rule: mesh.id, message: BAD_KEY_MESSAGE }], errors: [], notApplied: [] };
  }
  for (const cl of mesh.clauses) {
    const v = cl.kind === "require key_age" ? keyAge(c, cl) : cl.fn(c);
    if (clauses !== null) clauses.push(v instanceof EvalError ? { clause: cl.kind, span: cl.span, error: v.message } : { clause: cl.kind, span: cl.span, value: traceJson(v) });
    const pass = cl.kind === "unless" ? false : true;
    if (v === pass) continue;
    if (v === !pass) {
      setOutcome(cl.notApplied !== null ? "not-applicable" : "unmet");
      return { decision: "reject", ...base, reasons: [cl.failure], errors: [], notApplied: cl.notApplied === null ? [] : [cl.notApplied] };
    }
    const err = v instanceof EvalError ? v : new EvalError(msg.clauseNotBoolean(cl.kind, typeName(v)), cl.exprSpan);
    setOutcome("errored");
    const e = decisionError(mesh.id, err);
    return { decision: "reject", ...base, reasons: [{ rule: mesh.id, message: "evaluation error; rejected to fail closed" }], errors: [e], notApplied: [] };
  }
  return { decision: "admit", ...base, reasons: [], errors: [], notApplied: [] };
}

/** Pick the mesh block for an input: by `mesh` name or id, else the only one. */
export function chooseMesh(meshes: readonly CompiledMesh[], input: Record<string, unknown>): CompiledMesh | string | EvalError {
  const want = hasOwn.call(input, "mesh") ? input["mesh"] : undefined;
  if (want !== undefined) {
    if (typeof want !== "string") return `input field \`mesh\` must be a string, found ${typeName(want)}`;
    // An id names one block; a name may be shared by blocks of different packages: then it names none.
    const named = meshes.filter((x) => x.name === want);
    const m = meshes.find((x) => x.id === want) ?? (named.length === 1 ? named[0] : undefined);
    if (m !== undefined) return m;
    if (named.length > 1) return `several meshes are named ${JSON.stringify(want)} (${named.map((x) => x.id).join(", ")}); name one by id in the input's \`mesh\` field`;
    return quotingError((found) => `no mesh named ${found} is loaded`, JSON.stringify(want), null);
  }
  if (meshes.length === 1) return meshes[0]!;
  if (meshes.length === 0) return "no mesh block is loaded";
  return `several meshes are loaded (${meshes.map((m) => m.name).join(", ")}); name one in the input's \`mesh\` field`;
}


