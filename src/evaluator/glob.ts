/**
 * `s like "adm*"` (spec/LANGUAGE.md section 3): `*` matches any run of
 * characters (including none), `\*` a literal star; the match is anchored at
 * both ends.
 *
 * Choices where the spec is silent:
 * - A backslash escapes whatever character follows it (`\\` is one literal
 *   backslash); a trailing lone backslash is a literal backslash.
 * - `?`, `[` and every other character are literal.
 * - Matching is case-sensitive and by UTF-16 code unit, with no regular
 *   expression, so no pattern can take more than linear-times-stars time.
 */

export interface Glob {
  /** The literal pieces between stars; length 1 when there is no star. */
  readonly parts: readonly string[];
  /** Minimum length of a matching string. */
  readonly minLength: number;
}

export function compileGlob(pattern: string): Glob {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) {
      cur += pattern[++i]!;
    } else if (c === "*") {
      parts.push(cur);
      cur = "";
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  let minLength = 0;
  for (const p of parts) minLength += p.length;
  return { parts, minLength };
}

export function globMatch(g: Glob, s: string): boolean {
  const parts = g.parts;
  if (parts.length === 1) return s === parts[0];
  if (s.length < g.minLength) return false;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!s.startsWith(first) || !s.endsWith(last)) return false;
  let pos = first.length;
  const end = s.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i]!;
    if (p.length === 0) continue;
    const at = s.indexOf(p, pos);
    if (at < 0 || at + p.length > end) return false;
    pos = at + p.length;
  }
  return true;
}
