/** Test helpers for the correlation engine: detectors from policy text, events from short specs. */
import { parse } from "../../../src/parser/parse.js";
import { compileDetectors, type Alert, type Detector, type DetectorOptions } from "../../../src/runtime/siem/detector.js";

export const T0 = Date.parse("2026-03-10T09:00:00Z");

export function detector(text: string, options: DetectorOptions = {}): Detector {
  const { ast, diagnostics } = parse(text, "d.policy");
  if (diagnostics.length > 0) throw new Error(`syntax errors: ${diagnostics.map((d) => d.message).join("; ")}\n${text}`);
  return compileDetectors([ast], options);
}

/** An event `ms` after T0 with the given fields merged in. */
export function ev(ms: number, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { "@timestamp": new Date(T0 + ms).toISOString(), ...fields };
}

/** Push every event; all alerts, each tagged with the index of the event that raised it. */
export function run(d: Detector, events: unknown[]): (Alert & { at: number })[] {
  const out: (Alert & { at: number })[] = [];
  events.forEach((e, i) => {
    for (const a of d.push(e)) out.push({ ...a, at: i });
  });
  for (const a of d.flush()) out.push({ ...a, at: events.length });
  return out;
}

export const SEC = 1000;
export const MIN = 60 * SEC;
