/** Inputs from spec/LANGUAGE.md that several test files use. */

/** Section 8's example access input: ops restarting a staging node with fresh MFA. */
export const specRestart = {
  principal: { id: "alice", roles: ["ops"] },
  action: "node.restart",
  resource: { type: "node", env: "staging" },
  context: { mfa: { verified_at: "2026-01-01T00:00:00Z" }, device: { compliant: true } },
  time: "2026-01-01T00:05:00Z",
};
