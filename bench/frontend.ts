/**
 * Front-end throughput: parse + check (+ lint) of a generated file of
 * 10,000 rules. Targets (issue #2, 2-core machine): >= 5 MB/s, and 10,000
 * rules checked in under 1 s.
 */
import { SourceText } from "../src/parser/span.js";
import { parse } from "../src/parser/parse.js";
import { analyze } from "../src/load.js";
import { format } from "../src/format/format.js";
import { generateAccessPolicy } from "./generate.js";

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(runs: number, fn: () => void): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(samples);
}

export function runFrontendBench(): Record<string, number> {
  const RULES = 10_000;
  const text = generateAccessPolicy(RULES);
  const src = new SourceText("bench.policy", text);
  const mb = Buffer.byteLength(text) / 1e6;

  // Warm up the parser and the JIT, and make sure the input is clean.
  const warm = analyze([src], { lint: true });
  const errors = warm.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`bench policy has errors: ${errors[0]!.code} ${errors[0]!.message}`);

  const parseMs = time(5, () => parse(text, "bench.policy"));
  const checkMs = time(5, () => analyze([src], { lint: false }));
  const lintMs = time(5, () => analyze([src], { lint: true }));
  const fmtMs = time(3, () => format(text, "bench.policy"));

  console.log(`front end: ${RULES} rules, ${mb.toFixed(2)} MB`);
  console.log(`  parse               ${parseMs.toFixed(0).padStart(6)} ms  ${(mb / (parseMs / 1000)).toFixed(1).padStart(6)} MB/s`);
  console.log(`  parse+check         ${checkMs.toFixed(0).padStart(6)} ms  ${(mb / (checkMs / 1000)).toFixed(1).padStart(6)} MB/s   target >= 5 MB/s, < 1000 ms`);
  console.log(`  parse+check+lint    ${lintMs.toFixed(0).padStart(6)} ms  ${(mb / (lintMs / 1000)).toFixed(1).padStart(6)} MB/s`);
  console.log(`  fmt                 ${fmtMs.toFixed(0).padStart(6)} ms  ${(mb / (fmtMs / 1000)).toFixed(1).padStart(6)} MB/s`);
  return { rules: RULES, mb, parseMs, checkMs, lintMs, fmtMs };
}
