/**
 * Formatting a 10,000-rule file: measured once and reported (no timing
 * assertion; the machine is shared). The output is checked, so the run is
 * real work, not a no-op.
 */
import t from "tap";
import { format } from "../../src/format/format.js";
import { printPolicy } from "../../src/format/print.js";
import { parse } from "../../src/parser/parse.js";

const N = 10_000;
const canonical = (i: number): string =>
  [
    `allow "rule-${i}" {`,
    `  when action == "svc.action${i}" and resource.type == "type-${i % 7}"`,
    `  unless principal.roles contains_any ["suspended", "guest"]`,
    "  require mfa within 15m",
    "}",
  ].join("\n");
const messy = (i: number): string =>
  `allow "rule-${i}"{when action=="svc.action${i}"and resource.type=="type-${i % 7}" unless principal.roles contains_any["suspended","guest"]\trequire mfa within 15m}`;

t.test(`formatting ${N} rules`, async (t) => {
  const input = "package bench.fmt\n" + Array.from({ length: N }, (_, i) => messy(i)).join("\n");
  const expected = "package bench.fmt\n\n" + Array.from({ length: N }, (_, i) => canonical(i)).join("\n\n") + "\n";
  const started = performance.now();
  const r = format(input, "bench.policy");
  const ms = performance.now() - started;
  t.comment(`format: ${N} rules, ${(input.length / 1024).toFixed(0)} KiB in ${ms.toFixed(0)} ms`);
  t.same(r.diagnostics, [], "parses");
  t.ok(r.output === expected, "canonical output");
  // How that splits between the parser and the printer.
  const p0 = performance.now();
  const parsed = parse(input, "bench.policy");
  const p1 = performance.now();
  const printed = printPolicy(parsed.ast, input);
  const p2 = performance.now();
  t.comment(`of which parse ${(p1 - p0).toFixed(0)} ms, print ${(p2 - p1).toFixed(0)} ms`);
  t.ok(printed === expected, "printing the parsed tree gives the same text");
});
