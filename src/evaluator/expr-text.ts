/**
 * Expressions printed back as policy text, for messages ("missing attribute
 * `principal.department`", "requirement not met: `principal.mfa`") and
 * explain output. Compact, one line, parenthesized as written.
 */
import type { Expr } from "../parser/ast.js";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function exprText(e: Expr, limit = 120): string {
  const s = print(e);
  return s.length > limit ? `${s.slice(0, limit - 3)}...` : s;
}

function print(e: Expr): string {
  switch (e.kind) {
    case "String":
      return JSON.stringify(e.value);
    case "Number":
      return e.raw;
    case "Bool":
      return e.value ? "true" : "false";
    case "Duration":
      return e.raw;
    case "List":
      return `[${e.items.map(print).join(", ")}]`;
    case "Object":
      return `{ ${e.entries.map((en) => `${IDENT.test(en.key) && !en.quoted ? en.key : JSON.stringify(en.key)}: ${print(en.value)}`).join(", ")} }`;
    case "Name":
      return e.name;
    case "Member":
      return `${print(e.object)}.${e.property}`;
    case "Index":
      return `${print(e.object)}[${print(e.index)}]`;
    case "Call":
      return `${e.callee}(${e.args.map(print).join(", ")})`;
    case "Unary":
      return e.op === "not" ? `not ${print(e.operand)}` : `-${print(e.operand)}`;
    case "Binary":
      return `${print(e.left)} ${e.op} ${print(e.right)}`;
    case "Has":
      return `${print(e.object)} has ${IDENT.test(e.name) ? e.name : JSON.stringify(e.name)}`;
    case "Paren":
      return `(${print(e.expr)})`;
  }
}
