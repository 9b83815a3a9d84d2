/**
 * Fuzzing the front end: mutate the example policies (delete, duplicate and
 * swap tokens, truncate, splice random bytes) and require that parse, check,
 * lint and fmt never throw, never hang (a hang times the test out), and that
 * every diagnostic's span lies inside its file.
 *
 * FUZZ_CASES (default 5000) and FUZZ_SEED (default fixed, printed) tune it;
 * a failure prints the seed and the case number so it can be replayed.
 */
import t from "tap";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SourceText } from "../src/parser/span.js";
import { analyze } from "../src/load.js";
import { format } from "../src/format/format.js";
import { parse } from "../src/parser/parse.js";
import { prng } from "./support/prng.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CASES = Number(process.env.FUZZ_CASES ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2026);

function collect(dir: string, out: string[]): void {
  for (const e of readdirSync(dir).sort()) {
    const full = path.join(dir, e);
    if (statSync(full).isDirectory()) collect(full, out);
    else if (e.endsWith(".policy")) out.push(full);
  }
}


const TOKEN = /"(?:[^"\\\n]|\\.)*"?|#[^\n]*|\d+[a-z]*|[A-Za-z_][A-Za-z0-9_]*|<->|->|[<>=!]=|\?\?|\s+|./g;

function mutate(text: string, rnd: () => number): string {
  const pick = (n: number) => Math.floor(rnd() * n);
  const tokens = text.match(TOKEN) ?? [];
  const rounds = 1 + pick(4);
  let toks = tokens.slice();
  for (let r = 0; r < rounds; r++) {
    const op = pick(6);
    if (toks.length === 0) toks = ["{"];
    const i = pick(toks.length);
    const j = pick(toks.length);
    switch (op) {
      case 0: // delete a run of tokens
        toks.splice(i, 1 + pick(3));
        break;
      case 1: // duplicate a token
        toks.splice(i, 0, toks[j]!);
        break;
      case 2: {
        // swap two tokens
        const a = toks[i]!;
        toks[i] = toks[j]!;
        toks[j] = a;
        break;
      }
      case 3: // truncate
        toks = toks.slice(0, i);
        break;
      case 4: {
        // random bytes, including control characters, quotes, braces and non-ASCII
        const alphabet = '{}[]()"#\\:,.-<>=!?*\n\t \u0000\u00e9\u2028\ud83d\ude00abc019';
        let s = "";
        for (let k = pick(8); k >= 0; k--) s += alphabet[pick(alphabet.length)];
        toks.splice(i, 0, s);
        break;
      }
      default: // deep nesting
        toks.splice(i, 0, "(".repeat(1 + pick(400)));
        break;
    }
  }
  return toks.join("");
}

const seeds: string[] = [];
collect(path.join(root, "policies"), seeds);
try {
  collect(path.join(root, "test", "corpus", "valid"), seeds);
} catch {
  // the corpus may not exist in a partial checkout; the policies are enough
}
const originals = seeds.map((f) => ({ file: path.relative(root, f), text: readFileSync(f, "utf8") }));

t.test(`front end survives ${CASES} mutated policies (seed ${SEED})`, async (t) => {
  t.ok(originals.length > 0, "there are example policies to mutate");
  const rnd = prng(SEED);
  let diagnosticsSeen = 0;
  let failures = 0;
  for (let n = 0; n < CASES && failures < 5; n++) {
    const base = originals[Math.floor(rnd() * originals.length)]!;
    const text = mutate(base.text, rnd);
    const where = `case ${n} (seed ${SEED}) from ${base.file}`;
    try {
      const src = new SourceText(base.file, text);
      const { diagnostics } = analyze([src], { lint: true, readFile: () => "{}" });
      diagnosticsSeen += diagnostics.length;
      for (const d of diagnostics) {
        const s = d.span;
        const inside =
          s.file === base.file && s.start >= 0 && s.start <= s.end && s.end <= text.length &&
          s.line >= 1 && s.line <= src.lineCount && s.endLine >= s.line && s.column >= 1;
        if (!inside) {
          failures++;
          t.fail(`${where}: ${d.code} span outside the file: ${JSON.stringify(s)} (length ${text.length})`);
          break;
        }
      }
      const f = format(text, base.file);
      if (f.changed && parse(f.output, base.file).diagnostics.some((d) => d.severity === "error")) {
        failures++;
        t.fail(`${where}: fmt produced text that does not parse`);
      }
    } catch (err) {
      failures++;
      t.fail(`${where}: threw ${(err as Error)?.stack ?? String(err)}`);
    }
  }
  t.equal(failures, 0, "no crash, no span outside its file");
  t.ok(diagnosticsSeen > CASES / 2, `mutations do produce diagnostics (${diagnosticsSeen})`);
});
