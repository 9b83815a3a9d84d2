/**
 * Pass: mesh blocks (spec section 6). A mesh needs a `network` (SP2029); the
 * network is a CIDR range with room for nodes and no host bits, the listen
 * port and connect ports are 1-65535, and the keepalive is whole seconds in
 * 1s..65535s, which is what WireGuard's PersistentKeepalive accepts (SP2023).
 */
import type { MeshBlock } from "../parser/ast.js";
import { diagnostic } from "../diagnostics/diagnostic.js";
import { report, type CheckContext } from "./context.js";
import { IpValue, parseIp } from "./ip-value.js";
import { isNode, isStringLit } from "./sites.js";

export function checkMesh(ctx: CheckContext): void {
  for (const file of ctx.files) {
    for (const item of Array.isArray(file?.items) ? file.items : []) {
      if (isNode(item) && item.kind === "Mesh") checkBlock(ctx, item);
    }
  }
}

function validPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

function checkBlock(ctx: CheckContext, mesh: MeshBlock): void {
  const clauses = Array.isArray(mesh.clauses) ? mesh.clauses.filter(isNode) : [];
  if (!clauses.some((c) => c.kind === "Network")) {
    report(
      ctx,
      diagnostic("SP2029", mesh.nameSpan ?? mesh.span, { block: `mesh \`${mesh.name}\``, clause: "network" }, {
        hint: 'add the overlay range, e.g. `network "100.64.0.0/10"`',
      }),
    );
  }
  for (const c of clauses) {
    switch (c.kind) {
      case "Network": {
        if (!isStringLit(c.cidr)) break;
        const reason = networkProblem(c.cidr.value);
        if (reason) report(ctx, diagnostic("SP2023", c.cidr.span, { what: "network", reason: reason.reason }, reason.hint ? { hint: reason.hint } : {}));
        break;
      }
      case "ListenPort":
        if (isNode(c.port) && !validPort(c.port.value)) {
          report(ctx, diagnostic("SP2023", c.port.span, { what: "listen_port", reason: `${c.port.raw} is not a port in 1-65535` }, { hint: "WireGuard's default is 51820" }));
        }
        break;
      case "Keepalive": {
        if (!isNode(c.interval)) break;
        const ms = c.interval.ms;
        let reason: string | undefined;
        if (!(ms >= 1000 && ms <= 65535 * 1000)) reason = `${c.interval.raw} is outside 1s..65535s`;
        else if (ms % 1000 !== 0) reason = `${c.interval.raw} is not a whole number of seconds`;
        if (reason) report(ctx, diagnostic("SP2023", c.interval.span, { what: "keepalive", reason }, { hint: "25s keeps most NAT mappings open" }));
        break;
      }
      case "Connect":
        for (const p of Array.isArray(c.ports) ? c.ports : []) {
          if (isNode(p) && !validPort(p.value)) report(ctx, diagnostic("SP2023", p.span, { what: "port", reason: `${p.raw} is not a port in 1-65535` }));
        }
        break;
      default:
        break;
    }
  }
}

function networkProblem(text: string): { reason: string; hint?: string } | undefined {
  const v = parseIp(text);
  if (!(v instanceof IpValue)) return { reason: `\`${text}\` is not a CIDR range (${v.error})`, hint: 'write e.g. "100.64.0.0/10" or "fd00:5157::/48"' };
  if (!v.isRange) return { reason: `\`${text}\` is an address, not a range`, hint: `add a prefix length, e.g. "${text}/24"` };
  const max = v.version === 4 ? 30 : 126;
  if (v.prefix > max) return { reason: `/${v.prefix} leaves no room for nodes`, hint: `use a prefix of at most /${max}` };
  if (v.hasHostBits()) return { reason: `\`${text}\` has host bits set`, hint: `did you mean \`${v.networkText()}\`?` };
  return undefined;
}
