/**
 * An Engine built in steps (engineSteps, src/steps.ts) is the Engine the
 * constructor builds: same diagnostics, version, rule ids and decisions,
 * for clean and broken sets; and the steps are many (each file's parse,
 * each checker pass, the compile in parts), which is what lets the
 * service's reload keep answering requests while a large set loads.
 */
import t, { type Test } from "tap";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Engine, readSources } from "../src/index.js";
import { engineSteps } from "../src/engine.js";
import { SourceText } from "../src/parser/span.js";
import { runSteps, runStepsAsync } from "../src/steps.js";
import { check, checkSteps, lastPassFailures, LINT_PASS_NAMES } from "../src/checker/check.js";
import type { PolicyFile } from "../src/parser/ast.js";
import { parse } from "../src/parser/parse.js";
import { generateAccessPolicy } from "../bench/generate.js";

const here = path.dirname(fileURLToPath(import.meta.url));

const INPUTS = [
  { kind: "access", principal: { id: "ana", roles: ["admin"], clearance: 5, groups: [] }, action: "read", resource: { kind: "dataset", owner: "ana", sensitivity: "phi", tags: [] }, context: { mfa: { verified_at: "2026-01-01T00:00:00Z" } }, time: "2026-01-01T00:05:00Z" },
  { kind: "access", principal: { id: "bob", roles: [] }, action: "delete", resource: { kind: "model" } },
  { kind: "encryption", data: { classification: "phi", record_id: "r1", tenant: "t" } },
  { kind: "mesh", node: { id: "n1", public_key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", tags: ["worker"], attested: true } },
];

function same(t: Test, stepped: Engine, direct: Engine): void {
  t.same(stepped.diagnostics, direct.diagnostics, "diagnostics");
  t.equal(stepped.version, direct.version, "version");
  t.same(stepped.ruleIds, direct.ruleIds, "rule ids");
  for (const input of INPUTS) {
    const a = stepped.evaluate(input);
    const b = direct.evaluate(input);
    t.same({ ...a, id: undefined }, { ...b, id: undefined }, `decision for a ${input.kind} input`);
  }
}

t.test("the shipped policies: stepped and direct engines agree", async (t) => {
  const { sources, errors } = await readSources([path.join(here, "..", "policies")]);
  t.ok(sources.length > 1, "several files");
  const g = engineSteps(sources, errors);
  let steps = 0;
  let r = g.next();
  while (r.done !== true) {
    steps++;
    r = g.next();
  }
  // One per file parsed, one per checker pass (10), one per file compiled, the generated code.
  t.ok(steps >= 2 * sources.length + 10, `split into ${steps} steps`);
  same(t, r.value, new Engine(sources, errors));
});

t.test("a broken set: the same diagnostics, and it fails closed either way", async (t) => {
  const sources = [new SourceText("a.policy", 'package a\nallow "x" { when principal.id == "ana" }\n'), new SourceText("b.policy", 'package b\nallow "y" { when principal.id == }\n')];
  const stepped = await runStepsAsync(engineSteps(sources, []), () => Promise.resolve());
  const direct = new Engine(sources, []);
  t.ok(direct.diagnostics.some((d) => d.severity === "error"));
  same(t, stepped, direct);
  t.equal(stepped.evaluateAccess({ principal: { id: "ana" }, action: "read", resource: {} }).decision, "deny");
  t.throws(() => stepped.detector(), /policy set has errors/);
});

t.test("a large file compiles in parts; unreadable paths keep a stepped engine closed", async (t) => {
  const sources = [new SourceText("big.policy", generateAccessPolicy(1000))];
  let steps = 0;
  const stepped = await runStepsAsync(engineSteps(sources, []), async () => void steps++);
  t.ok(steps >= 1 + 10 + 1000 / 256, `1,000 rules in one file: ${steps} steps`);
  same(t, stepped, new Engine(sources, []));
  const missing = [{ path: "/nowhere", message: "ENOENT" }];
  const closed = runSteps(engineSteps(sources, missing));
  t.same(closed.loadErrors, missing);
  t.equal(closed.evaluateAccess(INPUTS[0]!).decision, "deny", "a set with a load error never allows");
});

t.test("a check interleaved with another keeps its own pass failures", async (t) => {
  // A stepped check paused half-way while a whole check runs: lastPassFailures names the last to finish.
  const hole = unreadableTree();
  const g = checkSteps([hole]);
  g.next();
  check([parse('package q\nallow "y" { when principal.id == "b" }\n', "q.policy").ast]);
  t.same(lastPassFailures, [], "the clean check's failures");
  runStepsToEnd(g);
  t.ok(lastPassFailures.length > 0, `then the mangled one's: ${lastPassFailures.join("; ")}`);
});

t.test("a check pass that fails (a bug) is an error, SP2031, so the set is refused rather than served half-checked", async (t) => {
  const hole = unreadableTree();
  const r = check([hole]);
  t.ok(lastPassFailures.length > 0);
  const errors = r.diagnostics.filter((d) => d.code === "SP2031");
  t.equal(errors.length, lastPassFailures.filter((f) => !LINT_PASS_NAMES.some((n) => f.startsWith(`${n}: `))).length, "one per failed check pass");
  t.equal(errors[0]?.severity, "error");
  t.match(errors[0]?.message, /^the checker failed on this policy set \(pass `[^`]+`: unreadable\); the set is refused$/);
  t.match(errors[0]?.span, { file: "p.policy", line: 1, column: 1 });
  // A clean tree: no SP2031.
  t.same(check([parse('package q\nallow "y" { when principal.id == "b" }\n', "q.policy").ast]).diagnostics, []);
});

/** A tree no pass can read (a getter that throws): every pass that looks at its rule fails. */
function unreadableTree(): PolicyFile {
  const hole = parse('package p\nallow "x" { when principal.id == "a" }\n', "p.policy").ast;
  Object.defineProperty(hole.items[0], "clauses", {
    get() {
      throw new Error("unreadable");
    },
  });
  return hole;
}

t.test("steps abandoned mid-way (a pause or a step throws) are closed, and the error is the one reported", async (t) => {
  const closed: string[] = [];
  function* job(name: string, failAt: number): Generator<void, number, void> {
    try {
      for (let i = 0; i < 5; i++) {
        if (i === failAt) throw new Error(`${name} step ${i}`);
        yield;
      }
      return 5;
    } finally {
      closed.push(name);
    }
  }
  await t.rejects(runStepsAsync(job("paused", -1), () => Promise.reject(new Error("pause failed"))), /pause failed/);
  t.same(closed, ["paused"], "the generator a failed pause left suspended is closed");
  await t.rejects(runStepsAsync(job("stepped", 2), () => Promise.resolve()), /stepped step 2/);
  t.same(closed, ["paused", "stepped"]);
  t.equal(await runStepsAsync(job("whole", -1), () => Promise.resolve()), 5, "run to the end, it answers as runSteps does");
  t.equal(runSteps(job("sync", -1)), 5);
});

function runStepsToEnd(g: Generator<void, unknown, void>): void {
  while (g.next().done !== true);
}
