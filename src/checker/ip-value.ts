/**
 * IP addresses and ranges (`ip("198.51.100.7")`, `ip("fd00::/8")`,
 * `network "100.64.0.0/10"`), parsed once at check time so the evaluator can
 * reuse folded values.
 *
 * We parse by hand rather than trusting `net.isIP`: zone ids (`fe80::1%eth0`)
 * and octets with leading zeros (`010.0.0.1`, read as octal by some tools) are
 * rejected, because a policy author who writes them almost certainly means
 * something other than what another tool would read.
 */

/** An IPv4/IPv6 address (prefix = full length) or CIDR range. */
export class IpValue {
  /** The text as written (trimmed). */
  readonly text: string;
  readonly version: 4 | 6;
  /** Network-order bytes: 4 for IPv4, 16 for IPv6. */
  readonly bytes: Uint8Array;
  /** Prefix length in bits; 32 / 128 for a single address. */
  readonly prefix: number;
  /** The text had an explicit `/N`. */
  readonly isRange: boolean;

  constructor(text: string, version: 4 | 6, bytes: Uint8Array, prefix: number, isRange: boolean) {
    this.text = text;
    this.version = version;
    this.bytes = bytes;
    this.prefix = prefix;
    this.isRange = isRange;
  }

  /** Whether `other` (an address or a range) lies inside this range. */
  contains(other: IpValue): boolean {
    if (other.version !== this.version || other.prefix < this.prefix) return false;
    return prefixEqual(this.bytes, other.bytes, this.prefix);
  }

  /** True when bits beyond the prefix are set (`10.0.0.1/8`). */
  hasHostBits(): boolean {
    const total = this.bytes.length * 8;
    for (let bit = this.prefix; bit < total; bit++) {
      if ((this.bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return true;
    }
    return false;
  }

  /** The range with host bits cleared, as CIDR text (`10.0.0.0/8`). */
  networkText(): string {
    const b = new Uint8Array(this.bytes);
    const total = b.length * 8;
    for (let bit = this.prefix; bit < total; bit++) b[bit >> 3]! &= ~(1 << (7 - (bit & 7)));
    return `${formatBytes(b, this.version)}/${this.prefix}`;
  }

  /**
   * `==` as evaluation reads it (src/evaluator/cidr.ts): family, prefix and
   * network; the host bits of a range do not count (10.1.2.3/8 is 10.0.0.0/8).
   */
  sameNetwork(other: IpValue): boolean {
    return other.version === this.version && other.prefix === this.prefix && prefixEqual(this.bytes, other.bytes, this.prefix);
  }

  equals(other: IpValue): boolean {
    return other.version === this.version && other.prefix === this.prefix && prefixEqual(this.bytes, other.bytes, this.bytes.length * 8);
  }

  toString(): string {
    return this.text;
  }

  /** JSON form: `{ "$ip": "10.0.0.0/8" }`. */
  toJSON(): { $ip: string } {
    return { $ip: this.text };
  }
}

function prefixEqual(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

function formatBytes(b: Uint8Array, version: 4 | 6): string {
  if (version === 4) return Array.from(b).join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(":");
}

function parseV4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseV6(text: string): Uint8Array | null {
  if (text.length === 0 || text.includes("%")) return null;
  let head = text;
  let tail = "";
  const dbl = text.indexOf("::");
  if (dbl >= 0) {
    if (text.indexOf("::", dbl + 1) >= 0) return null;
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseV4(p);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return null;
  // an embedded IPv4 address may only end the address
  if (dbl >= 0 && head.includes(".")) return null;
  let all: number[];
  if (dbl >= 0) {
    const missing = 8 - h.length - t.length;
    if (missing < 1) return null;
    all = [...h, ...new Array<number>(missing).fill(0), ...t];
  } else {
    if (h.length !== 8) return null;
    all = h;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

/**
 * Parse an address or CIDR range. Returns the value, or a short reason why
 * the text is not one.
 */
export function parseIp(raw: string): IpValue | { error: string } {
  const text = raw.trim();
  if (text === "") return { error: "empty address" };
  const slash = text.indexOf("/");
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const isV6 = addr.includes(":");
  const bytes = isV6 ? parseV6(addr) : parseV4(addr);
  if (!bytes) return { error: isV6 ? "not an IPv6 address" : "not an IPv4 address" };
  const max = bytes.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return { error: "prefix length is not a number" };
    prefix = Number(p);
    if (prefix > max) return { error: `prefix length ${prefix} is above ${max}` };
  }
  return new IpValue(text, isV6 ? 6 : 4, bytes, prefix, slash >= 0);
}

/**
 * An `ip("...")` argument as evaluation reads it (src/evaluator/cidr.ts
 * parseIp), for the checker's literal check (SP2020) and constant folding:
 * nothing trimmed (evaluation refuses " 10.0.0.0/8", so a rule with it
 * would error on every request), and an IPv4-mapped IPv6 address or range
 * (::ffff:a.b.c.d, /96 and longer) is the IPv4 one it carries.
 */
export function parseIpLiteral(text: string): IpValue | { error: string } {
  if (/\s/.test(text)) return { error: "whitespace in the address" };
  const v = parseIp(text);
  if (!(v instanceof IpValue) || v.version !== 6 || v.prefix < 96) return v;
  const b = v.bytes;
  if (!b.subarray(0, 10).every((x) => x === 0) || b[10] !== 0xff || b[11] !== 0xff) return v;
  return new IpValue(v.text, 4, b.slice(12), v.prefix - 96, v.isRange);
}
