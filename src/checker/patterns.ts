/**
 * String patterns of the language: `like` globs and `matches` regular
 * expressions. The checker validates and folds with these; the evaluator can
 * reuse them so both read a pattern the same way.
 */

/**
 * Compile a `matches` pattern. Patterns are ECMAScript regular expressions
 * with the `u` flag (strict syntax: a stray `\-` or a lone `{` is an error
 * rather than silently literal). Returns the RegExp or the reason it fails.
 */
export function compileRegex(pattern: string): RegExp | { error: string } {
  try {
    return new RegExp(pattern, "u");
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // V8 says "Invalid regular expression: /x/u: Unterminated group"; keep the reason.
    const m = /:\s*\/.*\/[a-z]*:\s*(.*)$/s.exec(msg);
    return { error: m ? m[1]! : msg };
  }
}

/**
 * A `like` glob as an anchored RegExp: `*` matches any run of characters
 * (including none); a backslash makes the next character literal (`\*` is a
 * star, `\\` a backslash). Every other character matches itself.
 */
export function globToRegExp(glob: string): RegExp {
  let src = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "\\" && i + 1 < glob.length) {
      src += escapeRegex(glob[++i]!);
    } else if (c === "*") {
      src += "[\\s\\S]*";
    } else {
      src += escapeRegex(c);
    }
  }
  return new RegExp(src + "$", "u");
}

function escapeRegex(c: string): string {
  // Only syntax characters may be escaped under the `u` flag (`\-` is an error).
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}
