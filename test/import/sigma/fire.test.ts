/**
 * The converted corpus fires on events built from each rule's own
 * selections and stays quiet on near misses, through the real engine.
 *
 * For every rule of ../shared/corpora/sigma/rules that converts (ecs and
 * no pipeline), event-generator.ts builds an event from the rule's
 * selections (plus its pipeline logsource condition) that the independent
 * reference matcher accepts; the whole converted policy runs in one
 * detector; the rule (found by its `sigma:ID` tag) must alert. Then one
 * field the selections set is broken (changed, else removed) until the
 * reference rejects the event, and the rule must stay quiet; with a
 * logsource condition, breaking that alone must also keep it quiet. No
 * condition of any rule may raise an evaluation error on any of these
 * events. The counts are asserted, so a rule that stops converting, firing
 * or generating shows up here.
 */
import t from "tap";
import { parseAllDocuments } from "yaml";
import { compile, convertSigma, SIGMA_PIPELINES, type Alert } from "../../../src/index.js";
import { applyPipeline, NO_PIPELINE, type Pipeline } from "../../../src/import/sigma/pipeline.js";
import { logsourceOf } from "../../../src/import/sigma/render.js";
import { prng } from "../../support/prng.js";
import { corpusFiles } from "./corpus-files.js";
import { filterHits, generateMatch, nearMissCandidates } from "./event-generator.js";
import { meets, requirements, type Requirement } from "./logsource-forms.js";
import { detectionMatch, lookup, type Event } from "./reference-matcher.js";

interface Outcome {
  rules: number;
  fired: number;
  nearMissQuiet: number;
  /** Rules with a pipeline logsource condition, and how many stayed quiet with it broken. */
  withLogsource: number;
  logsourceQuiet: number;
  /** Rules the generator made no event for, by title (the reference never accepted a proposal). */
  notGenerated: string[];
  /** Rules without a near miss the reference rejects. */
  noNearMiss: string[];
  /** The engine and the reference disagree: must stay empty. */
  disagreements: string[];
  evaluationErrors: number;
}

function setAt(event: Event, p: string[], v: unknown): void {
  let cur = event;
  for (const s of p.slice(0, -1)) cur = (cur[s] ??= {}) as Event;
  cur[p[p.length - 1]!] = v;
}

/** `only`: a log source to restrict the run to; `mutate`: a change to the converted policy (to show the test can fail). */
function runCorpus(pipeline: Pipeline, seed: number, only?: string, mutate: (policy: string) => string = (p) => p): Outcome {
  const out: Outcome = { rules: 0, fired: 0, nearMissQuiet: 0, withLogsource: 0, logsourceQuiet: 0, notGenerated: [], noNearMiss: [], disagreements: [], evaluationErrors: 0 };
  const rnd = prng(seed);
  // One detector per log source, as a deployment feeds one source's events to its rules:
  // rules of other sources read other schemas (a zeek `host` string against ECS `host.os.type`).
  const groups = new Map<string, { name: string; text: string; body: Record<string, unknown> }[]>();
  for (const f of corpusFiles()) {
    const body = parseAllDocuments(f.text)[0]!.toJS() as Record<string, unknown>;
    const k = JSON.stringify(logsourceOf(body));
    groups.set(k, [...(groups.get(k) ?? []), { ...f, body }]);
  }
  for (const [k, files] of groups) if (only === undefined || k === only) runGroup(files, pipeline, rnd, out, mutate);
  return out;
}

function runGroup(
  files: { name: string; text: string; body: Record<string, unknown> }[],
  pipeline: Pipeline,
  rnd: () => number,
  out: Outcome,
  mutate: (policy: string) => string,
): void {
  const result = convertSigma(files, { pipeline });
  const failed = new Set(result.problems.map((p) => p.rule));
  const engine = compile(mutate(result.policy), { file: "corpus.policy" });
  const detector = engine.detector();
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const push = (e: Event): Alert[] => detector.push({ ...e, "@timestamp": new Date((clock += 1000)).toISOString() });
  for (const f of files) {
    const body = f.body;
    const title = String(body["title"]);
    if (failed.has(`${title} (${f.name})`)) continue;
    out.rules++;
    const tag = `sigma:${String(body["id"])}`;
    const applied = applyPipeline(pipeline, logsourceOf(body));
    const map = (name: string) => applied.mapField(name).map((p) => p.segments);
    const keywordField = pipeline.keywords?.split(".");
    const reqs: Requirement[] = applied.conditions.flatMap((c) => requirements(c.text));
    const base = (): Event => {
      const e: Event = {};
      for (const r of reqs) setAt(e, r.path, r.listOk && rnd() < 0.5 ? [r.values[0]] : r.values[Math.floor(rnd() * r.values.length)]);
      return e;
    };
    const detection = body["detection"] as Record<string, unknown>;
    const accepts = (e: Event) => detectionMatch(detection, e, map, keywordField) && meets(e, reqs);
    const ctx = { map, keywordField, rnd };
    const g = generateMatch(detection, ctx, base, (e) => meets(e, reqs));
    if (g === undefined) {
      out.notGenerated.push(title);
      continue;
    }
    const firedOn = (e: Event) => push(e).some((a) => a.tags.includes(tag));
    if (firedOn(g.event)) out.fired++;
    else out.disagreements.push(`${title}: no alert on ${JSON.stringify(g.event)}`);
    const miss = [...nearMissCandidates(g), ...filterHits(detection, g, ctx)].find((e) => !accepts(e));
    if (miss === undefined) out.noNearMiss.push(title);
    else if (!firedOn(miss)) out.nearMissQuiet++;
    else out.disagreements.push(`${title}: alert on near miss ${JSON.stringify(miss)}`);
    if (reqs.length > 0) {
      out.withLogsource++;
      const broken = structuredClone(g.event);
      const r = reqs[0]!;
      setAt(broken, r.path, typeof lookup(broken, r.path) === "number" ? 99999 : "zz-other-source");
      if (firedOn(broken)) out.disagreements.push(`${title}: alert with the logsource broken ${JSON.stringify(broken)}`);
      else out.logsourceQuiet++;
    }
  }
  for (const s of Object.values(detector.stats().rules)) out.evaluationErrors += s.errors + s.missingField;
}

t.test("the Sigma ids of the corpus are unique (alerts are matched to rules by their sigma:ID tag)", async (t) => {
  const ids = corpusFiles().map((f) => String((parseAllDocuments(f.text)[0]!.toJS() as Record<string, unknown>)["id"]));
  t.equal(new Set(ids).size, ids.length);
});

t.test("pipeline ecs: converted rules fire on their own selections and stay quiet on near misses", async (t) => {
  const o = runCorpus(SIGMA_PIPELINES.ecs!, 20260310);
  t.same(o.disagreements, [], "the engine agrees with the reference matcher on every generated event");
  t.equal(o.evaluationErrors, 0, "no condition of any rule raised an evaluation error");
  t.equal(o.rules, 724);
  t.same(o.notGenerated, [], "an event was generated for every converted rule");
  t.equal(o.fired, 724, "every converted rule fired on its own event");
  t.same(o.noNearMiss, [], "a near miss for every rule");
  t.equal(o.nearMissQuiet, 724);
  t.equal(o.withLogsource, 328, "rules with a product or category condition");
  t.equal(o.logsourceQuiet, 328, "breaking the logsource condition keeps each of them quiet");
});

t.test("no pipeline: the same for the rules that convert without one", async (t) => {
  const o = runCorpus(NO_PIPELINE, 7);
  t.same(o.disagreements, []);
  t.equal(o.evaluationErrors, 0);
  t.equal(o.rules, 616);
  t.same(o.notGenerated, []);
  t.equal(o.fired, 616);
  t.same(o.noNearMiss, []);
  t.equal(o.nearMissQuiet, 616);
});


t.test("the check can fail: swapping ends_with for starts_with in the converted policy is caught", async (t) => {
  const group = JSON.stringify({ product: "linux", category: "process_creation" });
  const honest = runCorpus(NO_PIPELINE, 11, group);
  t.same(honest.disagreements, []);
  t.equal(honest.rules, 122);
  const broken = runCorpus(NO_PIPELINE, 11, group, (p) => p.replaceAll(" ends_with ", " starts_with "));
  t.ok(broken.disagreements.length > 50, `${broken.disagreements.length} rules disagree with the reference`);
});
