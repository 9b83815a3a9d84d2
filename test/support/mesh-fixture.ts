/**
 * A small mesh for the plan, render, verify, graph and CLI tests: its policy,
 * an inventory with one node per outcome, and reproducible keys. Not a test
 * file itself.
 */
import { SecretKey } from "../../src/runtime/crypto/secret-key.js";
import { clampPrivateKey, privateKeyText, publicKeyOf } from "../../src/runtime/mesh/keys.js";

export const MESH_POLICY = `package lab.mesh
mesh "lab" {
  network "100.64.0.0/10"
  listen_port 51820
  keepalive 25s
  when node.attested
  when node.tags contains_any ["worker", "scheduler", "gateway", "dns"]
  unless quarantined(node.id)
  require key_age within 30d else "WireGuard key older than 30 days"
  connect "worker" -> "scheduler" ports [7000, 7001]
  connect "scheduler" <-> "gateway"
  connect "*" -> "dns" ports [53]
}
`;

/** The planning time of the fixture: every key below is 9 days old then. */
export const PLAN_TIME = Date.parse("2026-01-10T00:00:00Z");
export const KEY_DATE = "2026-01-01T00:00:00Z";

/** A deterministic key pair for a name (tests only: the private key is derived from the name). */
export function keyFor(name: string): { privateKey: SecretKey; privateText: string; publicKey: string } {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = (name.charCodeAt(i % name.length) * (i + 7) + i * 31) & 0xff;
  const privateKey = SecretKey.from(clampPrivateKey(bytes));
  return { privateKey, privateText: privateKeyText(privateKey), publicKey: publicKeyOf(privateKey) };
}

export interface FixtureNode {
  [field: string]: unknown;
  id: string;
  public_key: string;
  tags: string[];
  attested: boolean;
  key_created_at: string;
  endpoint?: string;
  address?: string;
}

export function node(id: string, tags: string[], extra: Partial<FixtureNode> = {}): FixtureNode {
  return { id, public_key: keyFor(id).publicKey, tags, attested: true, key_created_at: KEY_DATE, ...extra };
}

/**
 * w1, w2 workers; s1 scheduler (pinned); g1 gateway; d1 dns without an
 * endpoint; x1 not attested; old1 with a 40-day-old key.
 */
export function fixtureInventory(): FixtureNode[] {
  return [
    node("w1", ["worker"], { endpoint: "198.18.0.10:51820" }),
    node("w2", ["worker"], { endpoint: "198.18.0.11:51820" }),
    node("s1", ["scheduler"], { endpoint: "198.18.0.12:51820", address: "100.64.0.10" }),
    node("g1", ["gateway"], { endpoint: "198.18.0.13:51820" }),
    node("d1", ["dns"]),
    node("x1", ["worker"], { attested: false, endpoint: "198.18.0.15:51820" }),
    node("old1", ["worker"], { key_created_at: "2025-12-01T00:00:00Z" }),
  ];
}
