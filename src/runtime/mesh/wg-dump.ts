/**
 * Reading `wg show all dump` (wg(8), "dump"): tab-separated lines.
 *
 *   interface: IFACE  private-key  public-key  listen-port  fwmark
 *   peer:      IFACE  public-key  preshared-key  endpoint  allowed-ips
 *              latest-handshake  transfer-rx  transfer-tx  persistent-keepalive
 *
 * `wg show IFACE dump` prints the same lines without the first column (4 and
 * 8 fields); both forms are read. Absent values are `(none)`, a disabled
 * fwmark or keepalive `off`; allowed-ips is a comma-separated list;
 * latest-handshake is epoch seconds, 0 for never.
 *
 * The interface line carries the interface's PRIVATE KEY. It is never kept:
 * only whether one is set. Problems name the line number and the field,
 * never quote a line, so a secret cannot reach an error message.
 *
 * A bad line is reported and skipped, the rest is still read (`verify`
 * counts every bad line as drift: what could not be read was not checked).
 *
 * Peer lines belong to the latest interface line of their name. One host
 * never prints a name twice, so a repeated name is the next host's dump: a
 * collector concatenates the dumps of every node, and the plan gives every
 * node's interface the same name. Peers after an interface line that could
 * not be read are reported, never given to the host before.
 */
import { isWireGuardKey } from "../../evaluator/mesh.js";

export interface DumpPeer {
  line: number;
  publicKey: string;
  hasPresharedKey: boolean;
  endpoint: string | null;
  allowedIps: string[];
  /** Epoch seconds of the latest handshake; 0 when there was none. */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  /** Seconds, or null when off. */
  keepalive: number | null;
}

export interface DumpInterface {
  /** Interface name; "" for the single-interface form, which does not print it. */
  name: string;
  line: number;
  publicKey: string | null;
  hasPrivateKey: boolean;
  listenPort: number | null;
  peers: DumpPeer[];
}

export interface DumpProblem {
  line: number;
  message: string;
}

export interface WgDump {
  interfaces: DumpInterface[];
  problems: DumpProblem[];
}

const UINT = /^(0|[1-9][0-9]{0,15})$/;

function keyField(v: string): string | null | false {
  if (v === "(none)") return null;
  return isWireGuardKey(v) ? v : false;
}

function parseInterface(fields: string[], name: string, line: number): DumpInterface | string {
  const [priv, pub, port] = fields;
  // Checked for shape only, and never quoted.
  if (priv !== "(none)" && !isWireGuardKey(priv)) return "the private-key field is not a key or (none)";
  const publicKey = keyField(pub!);
  if (publicKey === false) return "the public-key field is not a key or (none)";
  if (!UINT.test(port!) || Number(port) > 65535) return "the listen-port field is not a port";
  return { name, line, publicKey, hasPrivateKey: priv !== "(none)", listenPort: Number(port) === 0 ? null : Number(port), peers: [] };
}

function parsePeer(fields: string[], line: number): DumpPeer | string {
  const [pub, psk, endpoint, allowed, handshake, rx, tx, keepalive] = fields;
  if (!isWireGuardKey(pub)) return "the public-key field is not a key";
  if (psk !== "(none)" && !isWireGuardKey(psk)) return "the preshared-key field is not a key or (none)";
  if (endpoint === "") return "the endpoint field is empty";
  if (allowed === "") return "the allowed-ips field is empty";
  for (const [field, v] of [["latest-handshake", handshake], ["transfer-rx", rx], ["transfer-tx", tx]] as const) {
    if (!UINT.test(v!)) return `the ${field} field is not a whole number`;
  }
  if (keepalive !== "off" && (!UINT.test(keepalive!) || Number(keepalive) > 65535)) return "the persistent-keepalive field is not off or 0-65535";
  return {
    line,
    publicKey: pub!,
    hasPresharedKey: psk !== "(none)",
    endpoint: endpoint === "(none)" ? null : endpoint!,
    allowedIps: allowed === "(none)" ? [] : allowed!.split(","),
    latestHandshake: Number(handshake),
    rxBytes: Number(rx),
    txBytes: Number(tx),
    keepalive: keepalive === "off" || keepalive === "0" ? null : Number(keepalive),
  };
}

/** Read a dump; never throws. */
export function parseWgDump(text: string): WgDump {
  const interfaces: DumpInterface[] = [];
  // The latest interface line of each name; null when it could not be read (its peers are nobody's).
  const byName = new Map<string, DumpInterface | null>();
  const problems: DumpProblem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, "");
    const line = i + 1;
    if (raw.trim() === "") continue;
    const f = raw.split("\t");
    let result: DumpInterface | DumpPeer | string;
    switch (f.length) {
      case 5:
      case 4: {
        const name = f.length === 5 ? f[0]! : "";
        result = parseInterface(f.slice(f.length - 4), name, line);
        if (typeof result !== "string") interfaces.push(result);
        byName.set(name, typeof result === "string" ? null : result);
        break;
      }
      case 9:
      case 8: {
        const name = f.length === 9 ? f[0]! : "";
        const owner = byName.get(name);
        if (owner === undefined) result = `a peer line for ${name || "an interface"} before its interface line`;
        else if (owner === null) result = `a peer line for ${name || "the interface"} after an interface line that could not be read`;
        else {
          result = parsePeer(f.slice(f.length - 8), line);
          if (typeof result !== "string") owner.peers.push(result);
        }
        break;
      }
      default:
        result = `${f.length} tab-separated fields; an interface line has 5 (4 without the interface name), a peer line 9 (8)`;
    }
    if (typeof result === "string") problems.push({ line, message: result });
  }
  return { interfaces, problems };
}
