/**
 * Overlay addresses for admitted nodes: deterministic, collision-free,
 * pinned addresses kept, and stable when other nodes come and go.
 *
 * How (docs/mesh.md "Addresses"):
 * - The usable offsets of the network are 1 .. size-2 for IPv4 (no network
 *   or broadcast address) and 1 .. size-1 for IPv6 (no subnet-router anycast).
 * - Pinned addresses are placed first and kept. A pin outside the network,
 *   on a reserved address, or shared by two nodes is refused for those nodes
 *   (with a reason): which of two nodes owns an address is not ours to guess.
 * - Every other node has its own endless sequence of candidates,
 *   candidate(k) = 1 + sha256("swarm-policy/mesh-address/v1", id, k) mod usable,
 *   and takes its first candidate that is free. Nodes are placed in order of
 *   id (UTF-16 code units), so the result does not depend on inventory order.
 *
 * Stability: a node's address depends only on its id and on the nodes whose
 * candidates it met. Adding a node whose first candidate is free changes no
 * other address (nobody probed through a free slot); removing a node that no
 * one probed through changes none either. A node moves only when a node it
 * collided with comes or goes: with n nodes in a space of S addresses that
 * happens for about n/S of the additions (test/runtime/mesh/addresses.test.ts
 * measures it). Pin addresses that must never move.
 *
 * After 64 candidates a node falls back to the next free offset after its
 * last candidate (so a nearly full network still fills deterministically);
 * a node that finds no free address at all is refused.
 */
import { createHash } from "node:crypto";
import { parseIp, IpValue } from "../../checker/ip-value.js";
import { Ip } from "../../evaluator/cidr.js";

/** A parsed overlay network: first address, size and usable offsets as bigints. */
export class AddressSpace {
  readonly cidr: string;
  readonly version: 4 | 6;
  readonly prefix: number;
  /** Host bits: 32 or 128 minus the prefix. */
  readonly hostBits: number;
  readonly base: bigint;
  /** Usable offsets are 1..usable. */
  readonly usable: bigint;

  constructor(cidr: string) {
    const v = parseIp(cidr);
    if (!(v instanceof IpValue) || !v.isRange || v.hasHostBits()) throw new Error(`mesh network ${JSON.stringify(cidr)} is not a CIDR range`);
    this.version = v.version;
    this.prefix = v.prefix;
    this.hostBits = (v.version === 4 ? 32 : 128) - v.prefix;
    this.base = bytesToBigInt(v.bytes);
    const size = 1n << BigInt(this.hostBits);
    this.usable = v.version === 4 ? size - 2n : size - 1n;
    if (this.usable < 1n) throw new Error(`mesh network ${cidr} leaves no room for nodes`);
    this.cidr = `${formatAddress(this.base, this.version)}/${this.prefix}`;
  }

  /** Host prefix length of one address: 32 or 128. */
  get hostPrefix(): number {
    return this.version === 4 ? 32 : 128;
  }

  /** The address at a usable offset. */
  addressAt(offset: bigint): string {
    return formatAddress(this.base + offset, this.version);
  }

  /**
   * Where a pinned address lies: its offset, or why it cannot be used. The
   * text must be one address of the network's family, without a prefix.
   */
  offsetOf(text: string): bigint | string {
    const v = parseIp(text);
    if (!(v instanceof IpValue) || v.isRange) return `pinned address ${JSON.stringify(text)} is not an IP address`;
    if (v.version !== this.version) return `pinned address ${text} is IPv${v.version}, the mesh network ${this.cidr} is IPv${this.version}`;
    const offset = bytesToBigInt(v.bytes) - this.base;
    if (offset < 0n || offset >= 1n << BigInt(this.hostBits)) return `pinned address ${text} is outside the mesh network ${this.cidr}`;
    if (offset === 0n || offset > this.usable) return `pinned address ${text} is reserved in ${this.cidr} (network or broadcast address)`;
    return offset;
  }

  /** The k-th candidate offset of a node (1..usable). */
  candidate(id: string, k: number): bigint {
    const digest = createHash("sha256").update(`swarm-policy/mesh-address/v1\0${id}\0${k}`).digest();
    // IPv4: 48 bits modulo under 2^32, a bias below 2^-16 that no one can steer (ids are
    // hashed); the Number arithmetic keeps 10,000 nodes fast. IPv6: all 256 bits.
    if (this.version === 4) return 1n + BigInt(digest.readUIntBE(0, 6) % Number(this.usable));
    return 1n + (bytesToBigInt(digest) % this.usable);
  }
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
}

/** Dotted quad, or RFC 5952 text (the evaluator's `Ip` formatting, so both print addresses alike). */
export function formatAddress(value: bigint, version: 4 | 6): string {
  const word = (i: number) => Number((value >> BigInt(96 - 32 * i)) & 0xffffffffn);
  if (version === 4) return new Ip(false, 0, 0, 0, Number(value), 32).toString();
  return new Ip(true, word(0), word(1), word(2), word(3), 128).toString();
}

export interface AddressRequest {
  id: string;
  /** Pinned address text, if the inventory pins one. */
  pinned?: string | undefined;
}

export interface AddressResult {
  /** Address text by node id. */
  addresses: Map<string, string>;
  /** Nodes refused an address, with the reason. */
  refused: Map<string, string>;
}

const MAX_HASH_PROBES = 64;

/**
 * Assign addresses (see the top of this file). Pure: the same requests give
 * the same addresses, whatever their order.
 */
export function assignAddresses(space: AddressSpace, requests: readonly AddressRequest[]): AddressResult {
  const addresses = new Map<string, string>();
  const refused = new Map<string, string>();
  const taken = new Map<bigint, string>();
  const sorted = [...requests].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const pinnedBy = new Map<bigint, string[]>();
  for (const r of sorted) {
    if (r.pinned === undefined) continue;
    const offset = space.offsetOf(r.pinned);
    if (typeof offset === "string") refused.set(r.id, offset);
    else pinnedBy.set(offset, [...(pinnedBy.get(offset) ?? []), r.id]);
  }
  for (const [offset, ids] of pinnedBy) {
    if (ids.length > 1) {
      for (const id of ids) {
        const others = ids.filter((x) => x !== id).map((x) => JSON.stringify(x)).join(", ");
        refused.set(id, `pinned address ${space.addressAt(offset)} is also pinned by node ${others}`);
      }
      continue;
    }
    taken.set(offset, ids[0]!);
    addresses.set(ids[0]!, space.addressAt(offset));
  }

  for (const r of sorted) {
    if (r.pinned !== undefined) continue;
    let offset = -1n;
    let last = 0n;
    for (let k = 0; k < MAX_HASH_PROBES; k++) {
      last = space.candidate(r.id, k);
      if (!taken.has(last)) {
        offset = last;
        break;
      }
    }
    if (offset < 0n) offset = nextFree(space, taken, last);
    if (offset < 0n) {
      refused.set(r.id, `no free address left in the mesh network ${space.cidr}`);
      continue;
    }
    taken.set(offset, r.id);
    addresses.set(r.id, space.addressAt(offset));
  }
  return { addresses, refused };
}

/** The first free offset after `from`, wrapping around; -1 when every usable offset is taken. */
function nextFree(space: AddressSpace, taken: ReadonlyMap<bigint, string>, from: bigint): bigint {
  if (BigInt(taken.size) >= space.usable) return -1n;
  let o = from;
  for (;;) {
    o = o >= space.usable ? 1n : o + 1n;
    if (!taken.has(o)) return o;
  }
}
