/**
 * IP addresses and ranges: `ip("198.51.100.7")`, `ip("10.0.0.0/8")`,
 * `ip("fd00::/8")`, and containment for `in` (spec/LANGUAGE.md section 3).
 *
 * Choices where the spec is silent:
 * - An address is a range of one (/32 or /128). A range written with host
 *   bits set (`10.1.2.3/8`) is normalized to its network (`10.0.0.0/8`).
 * - IPv4 is dotted quad only: four decimal parts 0-255, no leading zeros
 *   (`010.0.0.1` is ambiguous between octal and decimal, so it is rejected).
 * - IPv6 accepts `::` compression and a dotted IPv4 tail; zone ids (`%eth0`)
 *   are rejected.
 * - An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, and ranges /96 and
 *   longer under `::ffff:0:0/96`) is treated as the IPv4 address, so writing
 *   an address in mapped form cannot slip past an IPv4 deny rule.
 * - An IPv4 address is never inside an IPv6 range and vice versa.
 * - `a in b` with two ranges holds when a lies wholly inside b.
 * - `==` compares family, network and prefix: ip("10.0.0.1") == ip("10.0.0.1/32").
 */
import { Special } from "./values.js";

export class Ip extends Special {
  readonly typeName = "ip" as const;
  constructor(
    readonly v6: boolean,
    /** Four 32-bit words, most significant first; an IPv4 address uses only w[3]. */
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    readonly prefix: number,
  ) {
    super();
  }

  get isRange(): boolean {
    return this.prefix < (this.v6 ? 128 : 32);
  }

  /** Whether `other` (an address or a range) lies inside this range. */
  contains(other: Ip): boolean {
    if (other.v6 !== this.v6 || other.prefix < this.prefix) return false;
    let bits = this.prefix;
    if (!this.v6) return bits === 0 || ((other.w3 ^ this.w3) >>> (32 - bits)) === 0;
    const a = [this.w0, this.w1, this.w2, this.w3];
    const b = [other.w0, other.w1, other.w2, other.w3];
    for (let i = 0; i < 4 && bits > 0; i++, bits -= 32) {
      const n = Math.min(32, bits);
      if (((a[i]! ^ b[i]!) >>> (32 - n)) !== 0) return false;
    }
    return true;
  }

  equals(other: unknown): boolean {
    return (
      other instanceof Ip &&
      other.v6 === this.v6 &&
      other.prefix === this.prefix &&
      other.w0 === this.w0 &&
      other.w1 === this.w1 &&
      other.w2 === this.w2 &&
      other.w3 === this.w3
    );
  }

  override toString(): string {
    const full = this.v6 ? 128 : 32;
    const addr = this.v6 ? formatV6([this.w0, this.w1, this.w2, this.w3]) : formatV4(this.w3);
    return this.prefix === full ? addr : `${addr}/${this.prefix}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function formatV4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
}

function formatV6(words: number[]): string {
  const groups: number[] = [];
  for (const w of words) groups.push(w >>> 16, w & 0xffff);
  // Longest run of zero groups (length >= 2) becomes "::" (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/**
 * Four dot-separated parts, each `0` or 1-3 digits without a leading zero, at most 255.
 * Exported for `in` over IPv4 ranges: a text it accepts is exactly the address (/32)
 * `parseIp` makes of it, as a 32-bit word.
 */
export function parseV4(text: string): number | null {
  // A character loop, not split + regex: detect rules parse event addresses on every event.
  let w = 0;
  let parts = 0;
  let i = 0;
  const n = text.length;
  while (parts < 4) {
    const start = i;
    let v = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || (len > 1 && text.charCodeAt(start) === 48) || v > 255) return null;
    w = w * 256 + v;
    parts++;
    if (parts < 4) {
      if (i >= n || text.charCodeAt(i) !== 46) return null;
      i++;
    }
  }
  return i === n ? w >>> 0 : null;
}

function parseV6(text: string): number[] | null {
  if (text.length === 0 || text.includes("%")) return null;
  let head = text;
  let tail = "";
  const dbl = text.indexOf("::");
  if (dbl >= 0) {
    if (text.indexOf("::", dbl + 1) >= 0) return null;
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const readGroups = (s: string, allowV4Tail: boolean): number[] | null => {
    if (s === "") return [];
    const parts = s.split(":");
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (allowV4Tail && i === parts.length - 1 && p.includes(".")) {
        const v4 = parseV4(p);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const h = readGroups(head, dbl < 0);
  const t = dbl >= 0 ? readGroups(tail, true) : [];
  if (h === null || t === null) return null;
  let groups: number[];
  if (dbl >= 0) {
    if (h.length + t.length > 7) return null;
    groups = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  } else {
    if (h.length !== 8) return null;
    groups = h;
  }
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push(((groups[i]! << 16) | groups[i + 1]!) >>> 0);
  return words;
}

function maskWord(w: number, bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return w >>> 0;
  return (w & (0xffffffff << (32 - bits))) >>> 0;
}

/** Parse an address or CIDR range; null when the text is not one. */
export function parseIp(text: string): Ip | null {
  if (typeof text !== "string" || text.length === 0 || text.length > 64) return null;
  let addr = text;
  let prefix: number | null = null;
  const slash = text.indexOf("/");
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    prefix = Number(p);
    addr = text.slice(0, slash);
  }
  if (!addr.includes(":")) {
    const w = parseV4(addr);
    if (w === null) return null;
    const bits = prefix ?? 32;
    if (bits > 32) return null;
    return new Ip(false, 0, 0, 0, maskWord(w, bits), bits);
  }
  const words = parseV6(addr);
  if (words === null) return null;
  let bits = prefix ?? 128;
  if (bits > 128) return null;
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address it carries.
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff && bits >= 96) {
    return new Ip(false, 0, 0, 0, maskWord(words[3]!, bits - 96), bits - 96);
  }
  const m: number[] = [];
  for (let i = 0; i < 4; i++) m.push(maskWord(words[i]!, bits - 32 * i));
  return new Ip(true, m[0]!, m[1]!, m[2]!, m[3]!, bits);
}
