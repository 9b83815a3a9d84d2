/**
 * matchSequence (window.ts) against a brute-force reference on random
 * windows and step counts with every comparison operator: the reference
 * runs the greedy match from every possible start and takes the first event
 * where some run completes, then the earliest such start (docs/siem.md,
 * "Matching and firing"). Covers the one-run shortcut for `>=` / `>` too.
 */
import t from "tap";
import type { CompareOp } from "../../../src/parser/ast.js";
import { holds, matchSequence } from "../../../src/runtime/siem/window.js";

/** A window entry as the reference reads it: its arrival number and step bits. */
interface WindowEntry {
  seq: number;
  steps: number;
}
import { prng } from "./random-detect.js";

const OPS: CompareOp[] = ["==", "!=", "<", "<=", ">", ">="];

/** The run from `start`: the index where it completes, or -1. */
function completes(entries: WindowEntry[], start: number, ordered: boolean, ops: CompareOp[], ns: number[]): { at: number; used: number[] } | null {
  const k = ops.length;
  const counts = ops.map(() => 0);
  const ok = (i: number) => counts[i]! >= 1 && holds(ops[i]!, counts[i]!, ns[i]!);
  const used: number[] = [];
  let step = -1;
  for (let j = start; j < entries.length; j++) {
    const m = entries[j]!.steps;
    const has = (i: number) => ((m >> i) & 1) === 1;
    if (ordered) {
      if (step < 0) {
        if (j > start || !has(0)) return null; // a run starts on an event of the first step
        step = 0;
        counts[0] = 1;
      } else if (step + 1 < k && ok(step) && has(step + 1)) counts[++step] = 1;
      else if (has(step)) counts[step]!++;
      else continue;
      used.push(entries[j]!.seq);
      if (step === k - 1 && ok(step)) return { at: j, used };
    } else {
      const matching = ops.map((_, i) => i).filter(has);
      if (matching.length === 0) continue;
      const s = matching.find((i) => !ok(i)) ?? matching[0]!;
      counts[s]!++;
      used.push(entries[j]!.seq);
      if (ops.every((_, i) => ok(i))) return { at: j, used };
    }
  }
  return null;
}

function reference(entries: WindowEntry[], ordered: boolean, ops: CompareOp[], ns: number[]): number[] | null {
  let best: { at: number; used: number[] } | null = null;
  for (let s = 0; s < entries.length; s++) {
    const r = completes(entries, s, ordered, ops, ns);
    if (r !== null && (best === null || r.at < best.at)) best = r;
  }
  return best === null ? null : best.used;
}

t.test("matchSequence equals the every-start reference on random windows", async (t) => {
  const rand = prng(6006);
  const int = (n: number) => Math.floor(rand() * n);
  let fired = 0;
  let checked = 0;
  for (let round = 0; round < 4000; round++) {
    const k = 1 + int(3);
    const ops = Array.from({ length: k }, () => OPS[int(OPS.length)]!);
    const ns = Array.from({ length: k }, () => 1 + int(3));
    const ordered = rand() < 0.6;
    const entries: WindowEntry[] = [];
    for (let j = 0; j < 1 + int(12); j++) {
      // Mostly one step an event; sometimes two, as overlapping step conditions give.
      let steps = 1 << int(k);
      if (rand() < 0.25) steps |= 1 << int(k);
      entries.push({ seq: j, steps });
    }
    const want = reference(entries, ordered, ops, ns);
    const bits = entries.map((e) => e.steps);
    const got = matchSequence(bits, bits.length, ordered, ops, ns)?.map((j) => entries[j]!.seq) ?? null;
    checked++;
    if (want !== null) fired++;
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.fail(`${ordered ? "sequence" : "all"} ${ops.map((o, i) => `${o} ${ns[i]}`).join(", ")} over ${entries.map((e) => e.steps).join(" ")}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      return;
    }
  }
  t.pass(`${checked} windows agree, ${fired} with a match`);
  t.ok(fired > 500 && fired < 3500, "the random windows both match and miss");
});
