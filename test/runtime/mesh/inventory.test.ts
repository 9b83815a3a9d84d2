/**
 * The node inventory: both JSON shapes, and every problem named by node and
 * field (table-driven), refused as a whole.
 */
import t from "tap";
import { parseInventory, problemText, MAX_PROBLEMS } from "../../../src/runtime/mesh/inventory.js";
import { node } from "../../support/mesh-fixture.js";

t.test("an array or { nodes: [...] }; extra fields pass through to admission", async (t) => {
  const list = [node("a", ["worker"], { endpoint: "198.18.0.1:51820" }), { ...node("b", ["dns"]), region: "eu", address: "100.64.0.9" }];
  for (const data of [list, { nodes: list }]) {
    const r = parseInventory(data);
    t.ok(r.ok);
    if (r.ok) t.same(r.nodes, list);
  }
  t.ok(parseInventory([]).ok, "an empty mesh is a valid inventory");
  const endpoints = ["198.18.0.10:51820", "[2001:db8::1]:51820", "[2001:DB8::a]:1", "[::ffff:198.18.0.1]:51820", "node-1.mesh.example:51820", "node-1:51820", "n1.example.com1:51820"];
  for (const endpoint of endpoints) t.ok(parseInventory([node("a", ["worker"], { endpoint })]).ok, `endpoint ${endpoint}`);
});

t.test("every problem names the node and the field", async (t) => {
  const good = node("good", ["worker"]);
  const cases: [string, unknown, string[]][] = [
    ["not a list", 42, ["inventory must be a JSON array of nodes or an object with a `nodes` array"]],
    ["object without nodes", { node: [] }, ["inventory must be a JSON array of nodes or an object with a `nodes` array"]],
    ["missing id", [{ public_key: good.public_key, tags: [] }], ["node #0 field id: is required"]],
    ["bad id", [{ ...good, id: "../etc" }], ["node #0 field id: must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"]],
    ["tags not strings", [{ ...good, tags: ["ok", 3] }], ['node "good" field tags/1: must be string']],
    ["missing tags", [{ id: "n", public_key: good.public_key }], ['node "n" field tags: is required']],
    ["endpoint without port", [{ ...good, endpoint: "198.18.0.1" }], ['node "good" field endpoint: must be host:port or [ipv6]:port']],
    ["endpoint port too big", [{ ...good, endpoint: "198.18.0.1:70000" }], ['node "good" field endpoint: port must be 1-65535']],
    // What wg(8) reads from an Endpoint: getaddrinfo takes inet_aton's forms, so these would send to another host.
    ["endpoint with a leading zero", [{ ...good, endpoint: "198.18.0.010:51820" }], ['node "good" field endpoint: 198.18.0.010 is neither an IPv4 address (four numbers 0-255, no leading zeros) nor a host name']],
    ["endpoint in shorthand", [{ ...good, endpoint: "198.18.10:51820" }], ['node "good" field endpoint: 198.18.10 is neither an IPv4 address (four numbers 0-255, no leading zeros) nor a host name']],
    ["endpoint in hex", [{ ...good, endpoint: "0x7f.1:51820" }], ['node "good" field endpoint: 0x7f.1 is neither an IPv4 address (four numbers 0-255, no leading zeros) nor a host name']],
    // And these wg refuses, which fails the whole config of every peer of the node.
    ["endpoint out of range", [{ ...good, endpoint: "198.18.0.256:51820" }], ['node "good" field endpoint: 198.18.0.256 is neither an IPv4 address (four numbers 0-255, no leading zeros) nor a host name']],
    ["endpoint with an empty label", [{ ...good, endpoint: "node..example:51820" }], ['node "good" field endpoint: node..example is neither an IPv4 address (four numbers 0-255, no leading zeros) nor a host name']],
    ["bracketed endpoint not IPv6", [{ ...good, endpoint: "[2001:db8:1]:51820" }], ['node "good" field endpoint: [2001:db8:1] is not an IPv6 address']],
    ["bracketed IPv4 endpoint", [{ ...good, endpoint: "[198.18.0.1]:51820" }], ['node "good" field endpoint: [198.18.0.1] is not an IPv6 address']],
    ["address with a prefix", [{ ...good, address: "100.64.0.1/32" }], ['node "good" field address: must be one IPv4 or IPv6 address, without a prefix length']],
    ["address not an address", [{ ...good, address: "somewhere" }], ['node "good" field address: must be one IPv4 or IPv6 address, without a prefix length']],
    ["duplicate id", [good, { ...good }], ['node "good" field id: duplicates the id of node #0']],
    ["ids differing in case", [good, { ...good, id: "GOOD" }], ['node "GOOD" field id: duplicates the id of node #0 ("good" differs only in case)']],
    ["key_created_at not a time", [{ ...good, key_created_at: true }], ['node "good" field key_created_at: must be an RFC 3339 time or epoch seconds']],
  ];
  for (const [name, data, want] of cases) {
    const r = parseInventory(data);
    t.notOk(r.ok, name);
    if (!r.ok) t.same(r.problems.map(problemText), want, name);
  }
});

t.test("at most MAX_PROBLEMS problems, in inventory order", async (t) => {
  const r = parseInventory(Array.from({ length: 80 }, (_, i) => ({ id: `n${i}`, tags: [] })));
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.problems.length, MAX_PROBLEMS);
    t.equal(problemText(r.problems[0]!), 'node "n0" field public_key: is required');
    t.equal(r.omitted, 80 - MAX_PROBLEMS, "and how many more there were");
  }
  const few = parseInventory([{ id: "n0", tags: [] }]);
  t.equal(!few.ok && few.omitted, 0);
});
