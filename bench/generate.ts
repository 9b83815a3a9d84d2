/**
 * Generators for benchmark inputs: large but realistic policy files.
 */

const ROLES = ["admin", "ops", "sre", "dev", "auditor", "data-eng", "ml-eng", "security", "dba", "support"];
const ACTIONS = ["read", "list", "describe", "write", "create", "update", "deploy", "exec", "delete", "purge"];
const TYPES = ["cluster", "node", "job", "pipeline", "model", "dataset", "secret", "key", "dashboard"];
const ENVS = ["dev", "staging", "prod"];

import { prng } from "../test/support/prng.js";
export { prng } from "../test/support/prng.js";

/** One .policy file with `n` access rules (about one deny in ten), consts and tags. */
export function generateAccessPolicy(n: number, seed = 1): string {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: string[] = [
    "package bench.access",
    "",
    '# Generated benchmark policy: realistic zero-trust rules.',
    'const admin_roles = ["admin", "sre"]',
    'const corp_nets = [ip("100.64.0.0/10"), ip("198.18.0.0/15")]',
    "",
  ];
  for (let i = 0; i < n; i++) {
    const id = String(i).padStart(5, "0");
    const actions = [pick(ACTIONS), pick(ACTIONS)].map((a) => `"${a}"`).join(", ");
    const type = pick(TYPES);
    if (i % 10 === 9) {
      out.push(
        `deny "deny-${id}" {`,
        `  tags ["ISO27001:A.8.2", "HIPAA:164.312(a)(1)"]`,
        `  when action in [${actions}] and resource.type == "${type}"`,
        `  when resource.env == "${pick(ENVS)}" and principal.clearance < ${1 + Math.floor(rnd() * 4)}`,
        `  unless principal.roles contains_any admin_roles`,
        `}`,
        "",
      );
    } else {
      out.push(
        `allow "allow-${id}" {`,
        `  tags ["ISO27001:A.5.15", "GDPR:Art.32"]`,
        `  when action in [${actions}] and resource.type == "${type}"`,
        `  when principal.roles contains "${pick(ROLES)}" and resource.env == "${pick(ENVS)}"`,
        `  unless context.source_ip in corp_nets and resource.owner != principal.id`,
        `  require context.device.compliant ?? false else "device is not compliant"`,
        `  require mfa within ${pick(["5m", "15m", "1h", "12h"])}`,
        `}`,
        "",
      );
    }
  }
  return out.join("\n");
}
