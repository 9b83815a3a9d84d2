/**
 * Sigma detection conditions (Sigma rules specification, "Condition"):
 * search identifiers joined by `and`, `or`, `not` and parentheses, and the
 * quantifiers `1 of PATTERN` / `all of PATTERN` / `1 of them` / `all of
 * them`. Precedence, loosest first: or, and, not, `x of`, parentheses.
 *
 * - A pattern matches identifiers with `*` as the only wildcard; `them` is
 *   every identifier not starting with `_` (the spec's convention).
 *   `any of` is read as `1 of` (pySigma accepts both).
 * - Keywords are case-insensitive (`AND` is `and`).
 * - A list of conditions means any of them (OR), as the spec says.
 * - The deprecated aggregation syntax (`| count() by x > 5`) and `near`
 *   have no translation here: correlation rules replace them.
 */
import { fail } from "./model.js";

export type CondNode =
  | { k: "id"; name: string }
  | { k: "of"; all: boolean; pattern: string }
  | { k: "not"; item: CondNode }
  | { k: "and" | "or"; items: CondNode[] };

function tokenize(text: string): string[] {
  if (text.includes("|")) fail("the condition uses the deprecated aggregation syntax (`| count() ...`); use a correlation rule");
  const out: string[] = [];
  const re = /\s*(\(|\)|[^\s()]+)/y;
  let i = 0;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null) break;
    out.push(m[1]!);
    i = re.lastIndex;
  }
  if (text.slice(i).trim() !== "") fail(`cannot read the condition near ${JSON.stringify(text.slice(i))}`);
  return out;
}

class CondParser {
  i = 0;
  constructor(readonly toks: string[], readonly source: string) {}

  peekWord(): string | undefined {
    return this.toks[this.i]?.toLowerCase();
  }

  parse(): CondNode {
    if (this.toks.length === 0) fail("the condition is empty");
    const node = this.or();
    if (this.i < this.toks.length) fail(`unexpected \`${this.toks[this.i]}\` in condition ${JSON.stringify(this.source)}`);
    return node;
  }

  or(): CondNode {
    const items = [this.and()];
    while (this.peekWord() === "or") {
      this.i++;
      items.push(this.and());
    }
    return items.length === 1 ? items[0]! : { k: "or", items };
  }

  and(): CondNode {
    const items = [this.not()];
    while (this.peekWord() === "and") {
      this.i++;
      items.push(this.not());
    }
    return items.length === 1 ? items[0]! : { k: "and", items };
  }

  not(): CondNode {
    if (this.peekWord() === "not") {
      this.i++;
      return { k: "not", item: this.not() };
    }
    return this.primary();
  }

  primary(): CondNode {
    const tok = this.toks[this.i];
    if (tok === undefined) fail(`condition ${JSON.stringify(this.source)} ends too early`);
    const word = tok.toLowerCase();
    if (tok === "(") {
      this.i++;
      const inner = this.or();
      if (this.toks[this.i] !== ")") fail(`missing \`)\` in condition ${JSON.stringify(this.source)}`);
      this.i++;
      return inner;
    }
    if (tok === ")" || word === "and" || word === "or") fail(`unexpected \`${tok}\` in condition ${JSON.stringify(this.source)}`);
    if (word === "near") fail("`near` has no translation (use a temporal correlation rule)");
    if ((word === "1" || word === "all" || word === "any") && this.toks[this.i + 1]?.toLowerCase() === "of") {
      const pattern = this.toks[this.i + 2];
      if (pattern === undefined || pattern === "(" || pattern === ")") fail(`\`${tok} of\` needs an identifier pattern or \`them\``);
      this.i += 3;
      return { k: "of", all: word === "all", pattern };
    }
    if (/^\d+$/.test(word) && this.toks[this.i + 1]?.toLowerCase() === "of") fail(`\`${tok} of\`: only \`1 of\` and \`all of\` are defined`);
    this.i++;
    return { k: "id", name: tok };
  }
}

export function parseCondition(text: string): CondNode {
  return new CondParser(tokenize(text), text).parse();
}

/**
 * Whether `name` matches `pattern`, where `*` is any run of characters and
 * everything else is literal. Each literal piece between stars is taken at
 * its first place after the last one (the leftmost match never loses a
 * match a later one would make), so a name is read at most once per piece.
 * A regular expression `^a.*b.*c$` backtracks instead: a 140-byte rule with
 * `1 of *a*a*a*a*a*a*a*a*a*a*a*a*b` and an identifier of 32 `a`s took 13 s,
 * four more `a`s over 30 s (exponential in the stars).
 */
export function patternMatches(pattern: string, name: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return name === pattern;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let pos = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i]!;
    if (p === "") continue;
    const at = name.indexOf(p, pos);
    if (at < 0 || at + p.length > end) return false;
    pos = at + p.length;
  }
  return true;
}

/** The identifiers a quantifier pattern names, in detection order. */
export function expandPattern(pattern: string, identifiers: readonly string[]): string[] {
  if (pattern.toLowerCase() === "them") return identifiers.filter((n) => !n.startsWith("_"));
  return identifiers.filter((n) => patternMatches(pattern, n));
}
