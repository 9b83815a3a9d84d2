/**
 * Overlay addresses: text forms, deterministic and order-independent,
 * collision-free inside the network, pins kept or refused with a reason,
 * full networks, and the stability property of addresses.ts: a node moves
 * only when a node it collided with comes or goes, and how often that is.
 */
import t from "tap";
import { AddressSpace, assignAddresses, formatAddress, type AddressRequest } from "../../../src/runtime/mesh/addresses.js";
import { prng } from "../../support/prng.js";

const ids = (n: number, prefix = "node") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

t.test("address text: dotted quads and RFC 5952", async (t) => {
  const cases: [bigint, 4 | 6, string][] = [
    [0x64400001n, 4, "100.64.0.1"],
    [0xffffffffn, 4, "255.255.255.255"],
    [0xfd000000000000000000000000000001n, 6, "fd00::1"],
    [0x20010db8000000010000000000000001n, 6, "2001:db8:0:1::1"],
    [0x20010db8000000000001000000000001n, 6, "2001:db8::1:0:0:1"],
    [0x20010db8000100010001000100010001n, 6, "2001:db8:1:1:1:1:1:1"],
    [0n, 6, "::"],
  ];
  for (const [v, ver, text] of cases) t.equal(formatAddress(v, ver), text);
});

t.test("the network: usable range and pinned-address checks", async (t) => {
  const s = new AddressSpace("100.64.0.0/10");
  t.equal(s.usable, (1n << 22n) - 2n);
  t.equal(s.offsetOf("100.64.0.1"), 1n);
  t.equal(s.offsetOf("100.127.255.254"), (1n << 22n) - 2n);
  const problems: [string, string][] = [
    ["10.0.0.1", "pinned address 10.0.0.1 is outside the mesh network 100.64.0.0/10"],
    ["100.64.0.0", "pinned address 100.64.0.0 is reserved in 100.64.0.0/10 (network or broadcast address)"],
    ["100.127.255.255", "pinned address 100.127.255.255 is reserved in 100.64.0.0/10 (network or broadcast address)"],
    ["fd00::1", "pinned address fd00::1 is IPv6, the mesh network 100.64.0.0/10 is IPv4"],
    ["100.64.0.1/32", 'pinned address "100.64.0.1/32" is not an IP address'],
    ["nope", 'pinned address "nope" is not an IP address'],
  ];
  for (const [pin, why] of problems) t.equal(s.offsetOf(pin), why, pin);
  const v6 = new AddressSpace("fd00:5157::/48");
  t.equal(v6.offsetOf("fd00:5157::"), "pinned address fd00:5157:: is reserved in fd00:5157::/48 (network or broadcast address)");
  t.equal(v6.offsetOf("fd00:5157:0:ffff:ffff:ffff:ffff:ffff"), (1n << 80n) - 1n, "IPv6 has no broadcast");
  t.throws(() => new AddressSpace("100.64.0.1/10"), /not a CIDR range/);
});

t.test("deterministic, order-independent, collision-free, inside the network", async (t) => {
  for (const cidr of ["100.64.0.0/10", "100.64.0.0/24", "fd00:5157::/48", "100.64.0.0/29"]) {
    const s = new AddressSpace(cidr);
    const n = cidr.endsWith("/29") ? 6 : cidr.endsWith("/24") ? 200 : 500;
    const reqs = ids(n).map((id) => ({ id }));
    const a = assignAddresses(s, reqs);
    const rand = prng(7);
    const shuffled = [...reqs].sort(() => rand() - 0.5);
    const b = assignAddresses(s, shuffled);
    t.same([...a.addresses].sort(), [...b.addresses].sort(), `${cidr}: same addresses in any order`);
    t.equal(a.refused.size, 0, `${cidr}: everyone placed`);
    t.equal(new Set(a.addresses.values()).size, n, `${cidr}: no two nodes share an address`);
    for (const addr of a.addresses.values()) {
      const off = s.offsetOf(addr);
      if (typeof off === "string") t.fail(`${cidr}: ${addr}: ${off}`);
    }
  }
});

t.test("a full network fills every usable address, then refuses", async (t) => {
  const s = new AddressSpace("100.64.0.0/29"); // 6 usable
  const r = assignAddresses(s, ids(8).map((id) => ({ id })));
  t.equal(r.addresses.size, 6);
  t.same([...r.addresses.values()].sort(), ["100.64.0.1", "100.64.0.2", "100.64.0.3", "100.64.0.4", "100.64.0.5", "100.64.0.6"]);
  t.same([...r.refused.values()], ["no free address left in the mesh network 100.64.0.0/29", "no free address left in the mesh network 100.64.0.0/29"]);
});

t.test("pins: kept, refused outside the network, refused for both nodes when shared", async (t) => {
  const s = new AddressSpace("100.64.0.0/24");
  const reqs: AddressRequest[] = [
    { id: "a", pinned: "100.64.0.10" },
    { id: "b", pinned: "100.64.0.20" },
    { id: "c", pinned: "100.64.0.20" },
    { id: "d", pinned: "192.0.2.1" },
    ...ids(200).map((id) => ({ id })),
  ];
  const r = assignAddresses(s, reqs);
  t.equal(r.addresses.get("a"), "100.64.0.10");
  t.same([r.refused.get("b"), r.refused.get("c")], ['pinned address 100.64.0.20 is also pinned by node "c"', 'pinned address 100.64.0.20 is also pinned by node "b"']);
  t.equal(r.refused.get("d"), "pinned address 192.0.2.1 is outside the mesh network 100.64.0.0/24");
  t.notOk([...r.addresses].some(([id, addr]) => id !== "a" && addr === "100.64.0.10"), "nobody else gets a pinned address");
});

/** Which offsets each node's probe visited before settling (its own included). */
function probes(s: AddressSpace, result: Map<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [id, addr] of result) {
    const seen: string[] = [];
    for (let k = 0; k < 64; k++) {
      const a = s.addressAt(s.candidate(id, k));
      seen.push(a);
      if (a === addr) break;
    }
    out.set(id, seen);
  }
  return out;
}

t.test("stability: other nodes coming and going move an address only through a collision", async (t) => {
  // A small network makes collisions common enough to see: 1,000 nodes in 4,094 addresses.
  const s = new AddressSpace("100.64.0.0/20");
  const rand = prng(5);
  const base = ids(1000, "n");
  const before = assignAddresses(s, base.map((id) => ({ id }))).addresses;
  const visited = probes(s, before);
  const occupied = new Set(before.values());
  let addTrials = 0;
  let addMoves = 0;
  let addsCausingMoves = 0;
  for (let trial = 0; trial < 200; trial++) {
    // Random ids sort anywhere among the others: a newcomer may come before the node it meets.
    const newcomer = `n-${Math.floor(rand() * 1e9)}`;
    const after = assignAddresses(s, [...base, newcomer].map((id) => ({ id }))).addresses;
    const moved = base.filter((id) => before.get(id) !== after.get(id));
    const firstChoice = s.addressAt(s.candidate(newcomer, 0));
    addTrials++;
    if (!occupied.has(firstChoice)) t.equal(moved.length, 0, `${newcomer}: its first choice was free, so nobody moves`);
    else {
      addMoves += moved.length;
      if (moved.length > 0) addsCausingMoves++;
    }
  }
  let removeMoves = 0;
  let removesCausingMoves = 0;
  for (let trial = 0; trial < 200; trial++) {
    const gone = base[Math.floor(rand() * base.length)]!;
    const after = assignAddresses(s, base.filter((id) => id !== gone).map((id) => ({ id }))).addresses;
    const moved = base.filter((id) => id !== gone && before.get(id) !== after.get(id));
    const probedThrough = base.some((id) => id !== gone && visited.get(id)!.slice(0, -1).includes(before.get(gone)!));
    if (!probedThrough) t.equal(moved.length, 0, `removing ${gone}: nobody probed through its address, so nobody moves`);
    for (const id of moved) t.ok(visited.get(id)!.length > 1, `${id} had collided before it moved`);
    removeMoves += moved.length;
    if (moved.length > 0) removesCausingMoves++;
  }
  // With n/S = 1000/4094 about a quarter of arrivals land on a taken first choice; about half of those sort first.
  t.ok(addsCausingMoves < addTrials * 0.25, `additions that moved someone: ${addsCausingMoves}/${addTrials}`);
  t.ok(addMoves <= addsCausingMoves * 3, "a collision moves one node, rarely a short chain");
  t.comment(`/20 with 1,000 nodes: ${addsCausingMoves}/200 additions moved ${addMoves} nodes; ${removesCausingMoves}/200 removals moved ${removeMoves}`);
});

t.test("stability at platform scale: 10,000 nodes in 100.64.0.0/10", async (t) => {
  const s = new AddressSpace("100.64.0.0/10");
  const base = ids(10_000, "w");
  const before = assignAddresses(s, base.map((id) => ({ id }))).addresses;
  let moves = 0;
  for (let trial = 0; trial < 40; trial++) {
    const after = assignAddresses(s, [...base, `w-late-${trial}`].map((id) => ({ id }))).addresses;
    moves += base.filter((id) => before.get(id) !== after.get(id)).length;
  }
  // Expected about 40 * 10,000 / 4,194,302 / 2 = 0.05 moves; more than one would be a bug.
  t.ok(moves <= 1, `nodes moved by 40 arrivals: ${moves}`);
  t.comment(`/10 with 10,000 nodes: 40 arrivals moved ${moves} existing nodes`);
});
