/**
 * The one catalogue of diagnostics (spec/LANGUAGE.md section 9).
 *
 * Bands: SP1xxx syntax (lexer, parser), SP2xxx names and types (checker),
 * SP3xxx lint (warnings, silenced by `# lint:ignore SP3xxx` on the line
 * above). Messages are built from these templates, never ad hoc at the site
 * that reports them: `{name}` placeholders are filled from the arguments.
 * Codes are a contract with users' CI configs: never renumber, only add.
 */
export type Severity = "error" | "warning";

export interface CodeInfo {
  severity: Severity;
  /** Short, lowercase; `{arg}` placeholders. */
  message: string;
  /** A default help line, used when the reporter gives none. */
  help?: string;
  /** One line for docs and SARIF rule metadata. */
  summary: string;
}

export const CODES = {
  // ------------------------------------------------------------ SP1xxx syntax
  SP1001: { severity: "error", message: "unexpected character `{char}`", summary: "A character that starts no token." },
  SP1002: { severity: "error", message: "unterminated string", help: "close the string with `\"` on the same line", summary: "A string literal without its closing quote." },
  SP1003: { severity: "error", message: "invalid escape `{escape}` in string", help: "use a JSON escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", summary: "A string escape that JSON does not allow." },
  SP1004: { severity: "error", message: "malformed number or duration `{text}`", help: "durations are integers with units ms, s, m, h, d, w, e.g. `1h30m`", summary: "A number or duration that cannot be read." },
  SP1005: { severity: "error", message: "expected {expected}, found {found}", summary: "A token other than the one the grammar needs here." },
  SP1006: { severity: "error", message: "unexpected {found}", summary: "A token that cannot start or continue anything here." },
  SP1007: { severity: "error", message: "comparison operators do not chain", help: "combine comparisons with `and`, or add parentheses", summary: "`a < b < c` and similar chains." },
  SP1008: { severity: "error", message: "`package` must come first and appear once per file", summary: "A misplaced or repeated package declaration." },
  SP1009: { severity: "error", message: "duplicate key `{key}` in object", summary: "An object literal that repeats a key." },
  SP1010: { severity: "error", message: "`{clause}` is not allowed in {block}", summary: "A clause in a block that does not take it (e.g. `require` in `deny`)." },
  SP1011: { severity: "error", message: "duplicate `{clause}` in {block}", help: "keep one", summary: "A clause that may appear once, repeated." },
  SP1012: { severity: "error", message: "missing `{clause}` in {block}", summary: "A clause that a block requires is absent (e.g. a test without input)." },
  SP1013: { severity: "error", message: "nesting deeper than {max} levels", help: "split the expression, or name parts of it with `const`", summary: "Brackets or operators nested too deeply to analyse safely." },

  // ------------------------------------------------------- SP2xxx names, types
  SP2001: { severity: "error", message: "unknown name `{name}`", summary: "A name that is neither a const nor a root bound in this block." },
  SP2002: { severity: "error", message: "unknown function `{name}`", summary: "A call to a function that is not a builtin." },
  SP2003: { severity: "error", message: "duplicate rule id `{id}`", summary: "Two rules with the same package/name across everything loaded." },
  SP2004: { severity: "error", message: "const `{name}` depends on itself: {cycle}", summary: "A cycle among const definitions." },
  SP2005: { severity: "error", message: "duplicate const `{name}`", summary: "A const defined twice in one package." },
  SP2006: { severity: "error", message: "unknown schema kind `{kind}`", help: "schema kinds are access, encryption, mesh, event", summary: "A schema declaration for an input kind that does not exist." },
  SP2007: { severity: "error", message: "cannot read schema `{path}`: {reason}", summary: "A schema file that is missing, not a regular file, over 16 MiB, not UTF-8 or not JSON." },
  SP2008: { severity: "error", message: "invalid JSON Schema `{path}`: {reason}", summary: "A schema file that ajv cannot compile." },
  SP2009: { severity: "error", message: "`{path}` is not allowed by the {kind} schema", summary: "An attribute path the declared schema does not allow." },
  SP2010: { severity: "error", message: "`{path}` is {actual} in the {kind} schema, compared with {expected}", summary: "A literal compared with an attribute of another type per the schema, or with a value its `enum` or `const` does not list." },
  SP2011: { severity: "error", message: "`{name}` takes {expected} argument(s), got {actual}", summary: "A builtin called with the wrong number of arguments." },
  SP2012: { severity: "error", message: "`{op}` needs {expected}, found {actual}", summary: "An operator applied to a value of the wrong type." },
  SP2013: { severity: "error", message: "cannot compare {left} with {right}", summary: "An ordering comparison between values of different types." },
  SP2014: { severity: "error", message: "`matches` is allowed in `detect` blocks only", help: "use `like`, `starts_with` or `ends_with`", summary: "A regular expression outside detection rules." },
  SP2015: { severity: "error", message: "{thing} is not a constant expression", summary: "A const or literal position that reads input." },
  SP2016: { severity: "error", message: "unknown cipher `{cipher}`", help: "ciphers are aes-256-gcm, aes-256-gcm-siv", summary: "A cipher the runtime does not provide." },
  SP2017: { severity: "error", message: "`having` needs `by ... within`", summary: "An aggregate without a grouping window." },
  SP2018: { severity: "error", message: "step count must be a positive integer, found `{value}`", summary: "A sequence step count that is not a positive integer." },
  SP2019: { severity: "error", message: "invalid regular expression: {reason}", summary: "A `matches` pattern that does not compile." },
  SP2020: { severity: "error", message: "invalid IP address or range `{text}`", summary: "An ip() literal or network that does not parse." },
  SP2021: { severity: "error", message: "duplicate {what} `{name}`", summary: "Two tests, steps or tags with the same name where names must differ." },
  SP2022: { severity: "error", message: "conflicting ciphers `{a}` and `{b}` can both apply", summary: "Encryption rules that can apply together but demand different ciphers." },
  SP2023: { severity: "error", message: "invalid {what}: {reason}", summary: "A mesh setting out of range (network, port, keepalive)." },
  SP2024: { severity: "error", message: "unknown severity `{level}`", help: "severities are low, medium, high, critical", summary: "A detect severity that is not one of the four levels." },
  SP2025: { severity: "error", message: "`{name}` is not available in {block}", summary: "An input root read where that input does not exist (e.g. `principal` in a mesh block)." },
  SP2026: { severity: "error", message: "more than one `encryption default` block", summary: "Two default encryption blocks across everything loaded." },
  SP2027: { severity: "error", message: "`{expect}` does not fit a test with `{input}` input", summary: "An expectation that cannot be checked against the test's kind of input." },
  SP2028: { severity: "error", message: "{what} must be {expected}", summary: "A value of the wrong shape in a fixed position (test input, aad list, by field)." },
  SP2029: { severity: "error", message: "{block} has no `{clause}`", summary: "A block missing something it needs (a mesh without network, a detect without condition)." },
  SP2030: { severity: "error", message: "unknown rule `{name}` in expectation", summary: "`expect alert` naming no detect rule, or an expectation comparing a rule field of `result` (`rule`, `rules`, `reasons[0].rule`, an alert's `rule`) with a string that names no rule that field can hold (a decision names rules by id, an alert its detect rule by name)." },
  SP2032: { severity: "error", message: "the pattern of `matches` must be a constant string", help: "write the regular expression as a string literal or a const; a pattern read from the event lets the event choose its own running time", summary: "A `matches` pattern that is not known when the policy loads (read from the event): it could not be checked, and an event could supply a pattern that backtracks for minutes." },
  SP2033: { severity: "error", message: "const `{name}` cannot be evaluated: {reason}", help: "a const is folded when the policies load; every rule reading this one would error on every request", summary: "A const whose value is an evaluation error that only its values show (a division by zero, a string that is not an address tested against an IP range)." },
  SP2031: { severity: "error", message: "the checker failed on this policy set (pass `{pass}`: {reason}); the set is refused", help: "this is a bug in swarm-policy, not in the policies: please report it with the files", summary: "A checker pass that failed on the set (a bug in swarm-policy): the set is refused, fail closed, rather than compiled and served half-checked." },

  // ----------------------------------------------------------- SP3xxx lint
  SP3001: { severity: "warning", message: "allow rule `{name}` has no `when`: it applies to every request", help: "add a `when` clause that narrows it", summary: "An allow rule that grants every request." },
  SP3002: { severity: "warning", message: "rule `{name}` can never apply: {why}", summary: "A rule whose conditions are constantly false." },
  SP3003: { severity: "warning", message: "const `{name}` is never used", summary: "An unused const." },
  SP3004: { severity: "warning", message: "`require mfa within {duration}` is longer than 24h", help: "step-up MFA older than a day proves little", summary: "An MFA freshness window above 24 hours." },
  SP3005: { severity: "warning", message: "`connect` names tag `{tag}` that no `when` of mesh `{mesh}` admits", summary: "A connect rule for a tag that admission never lets in." },
  SP3006: { severity: "warning", message: "rule `{name}` has no `tags`, but this file maps other rules to compliance controls", summary: "An untagged rule in a file that tags the others." },
  SP3007: { severity: "warning", message: "rule `{name}` has the same conditions as `{other}`", summary: "Two rules of the same effect with identical conditions (an allow rule's `require`s and a mesh's network count)." },
  SP3008: { severity: "warning", message: "`lint:ignore {code}` silences nothing", summary: "A lint:ignore directive naming an unknown code or matching no warning." },
  SP3009: { severity: "warning", message: "mesh `{mesh}` network {network} is not private address space", summary: "A mesh network outside 10/8, 172.16/12, 192.168/16, 100.64/10 or fc00::/7: nodes would get public addresses and route them into the tunnel." },
  SP3010: { severity: "warning", message: "allow rule `{name}` applies to every request: its `when` is always true", help: "narrow it with a `when` that reads the request, or remove the rule", summary: "An allow rule whose every `when` is constantly true (`when true`, a const switch left on), so it grants every request as SP3001's does." },
  SP3011: { severity: "warning", message: "pattern can take exponential time: the repeated group `{group}` can split the same text many ways", help: "let each round start or end with a character its repeats cannot match (`(-[a-z0-9]+)*`), or drop the inner repeat (`(a+)+` is `a+`)", summary: "A `matches` pattern with a repeated group holding a repeat (`(a+)+`, `(\\w+\\s?)*`, `(-.+)*`): on a near miss the engine backtracks through every split of the input, so one crafted event can block the engine for minutes. Not flagged: groups whose every alternative starts or ends with a literal character none of its repeats can match." },
  SP3012: { severity: "warning", message: "{place} holds `{char}` written raw: {why}", summary: "A character written raw in a string or a comment that does not show as itself: a bidirectional control (it reorders the line as shown: Trojan Source, CVE-2021-42574), a zero-width or non-ASCII space, a control character, a line separator (an editor may break the line there, so the rest of a comment looks like code). `\"root\u200b\"` written raw reads as `\"root\"`, and a deny rule on it never matches root. In strings `fmt` writes them as escapes; in comments only bidi controls and line separators are reported." },
  SP3013: { severity: "warning", message: "rule `{name}`: `{expr}` cannot be evaluated: {reason}", help: "it reads no input, so it fails every time it is evaluated: a deny rule reached denies, an allow rule never allows, a detect rule never fires", summary: "An expression in a rule that reads no input and still fails to evaluate (a division by zero, a string that is not an address tested against an IP range). `check` passes the rule and every request reaching it gets an evaluation error; a const doing the same is SP2033, an error." },
  SP3014: { severity: "warning", message: "`encryption default` has a `{clause}`: where it does not hold, the default contributes nothing", help: "the default is the baseline for all data: data no named rule covers then needs no encryption at all; put the condition in a named rule", summary: "A `when` or `unless` in `encryption default`. The spec adds the default to every decision; with a condition it drops out where the condition does not hold (docs/language.md), so the data the condition leaves out, and no named rule covers, is `required: false`." },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

/** Fill `{name}` placeholders of a code's template. */
export function formatMessage(code: Code, args: Record<string, string | number> = {}): string {
  return CODES[code].message.replace(/\{(\w+)\}/g, (whole, key: string) =>
    Object.prototype.hasOwnProperty.call(args, key) ? String(args[key]) : whole,
  );
}
