/**
 * String builtins and tests (spec/LANGUAGE.md section 3): `size`, `lower`,
 * `upper`, `starts_with`, `ends_with`.
 *
 * Choices where the spec is silent:
 * - `size(s)` counts Unicode code points ("é" and "😀" are 1); `size(list)`
 *   counts elements; `size(object)` counts keys. Anything else is an error.
 * - `lower`/`upper` use the locale-independent Unicode mappings, character
 *   by character: `lower` never gives the word-final ς (see lowerText).
 * - `starts_with`/`ends_with` are case-sensitive; both sides must be strings.
 */
import { lowerText } from "../checker/values.js";

export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export function lower(s: string): string {
  return lowerText(s);
}

export function upper(s: string): string {
  return s.toUpperCase();
}
