/**
 * The engine's risk store holding the spec differentials' fixed entries (STORE in
 * spec-policy-gen.ts, which the references read directly): a fresh one per engine.
 */
import { MemoryRiskStore } from "../../src/index.js";
import { STORE } from "./spec-policy-gen.js";

export function engineStore(): MemoryRiskStore {
  const s = new MemoryRiskStore();
  for (const r of STORE.raises) s.raiseUntil(r.id, r.amount, r.until);
  for (const q of STORE.quarantines) s.quarantineUntil(q.id, q.until);
  return s;
}
