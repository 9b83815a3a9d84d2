/**
 * A throwaway lab of Linux network namespaces running userspace WireGuard
 * (wireguard-go), for the end-to-end mesh tests. Not a test file itself.
 *
 * Layout: one "underlay" namespace holds a bridge; every node is its own
 * namespace with `eth0` (a veth whose other end sits on that bridge) at
 * 198.18.0.(10+i)/24, the benchmarking range, and a WireGuard interface. Nothing
 * is created in the root namespace: veths are made inside the underlay
 * namespace with `ip -n`, so the host's interfaces, addresses and routes are
 * never touched.
 *
 * Choices the issue leaves open:
 * - Names. Namespaces are `spe2e-<pid>-<random>-<node>`: unique across parallel
 *   runs, and the pid lets a later run sweep what a killed run left behind
 *   (only when that pid is gone). WireGuard interfaces get a random name per lab
 *   (`wg<6 hex>-<i>`), not `wg0`: wireguard-go's control socket lives in
 *   /var/run/wireguard/<iface>.sock, which every namespace shares, so two
 *   `wg0`s in two namespaces would fight over one socket.
 * - Applying a wg-quick file is done the way wg-quick does it, in small steps
 *   we control: `wg-quick strip` then `wg setconf`, `ip addr`, `ip link set
 *   up`, one route per AllowedIPs entry (tagged `proto static` so a re-apply
 *   can replace exactly those). PostUp/PreUp hooks are not run; a caller that
 *   keeps the private key in a file passes it and it is set with `wg set
 *   private-key`.
 * - Cleanup is synchronous (so it can run from `process.on("exit")`): every
 *   process in each namespace (`ip netns pids`) gets SIGTERM, then SIGKILL after
 *   a second, then the namespace is deleted and any stale control socket
 *   removed. It runs from t.teardown, on process exit and on SIGINT/SIGTERM
 *   (tap's timeout), and is idempotent.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const NAMESPACE_PREFIX = "spe2e-";
const SOCKET_DIR = "/var/run/wireguard";
const REQUIRED_TOOLS = ["ip", "wg", "wg-quick", "wireguard-go", "nft", "ping"] as const;

export interface Support {
  ok: boolean;
  /** Why the lab cannot run here (set when ok is false). */
  reason?: string;
}

/** Whether an executable named `tool` is on PATH. */
export function onPath(tool: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

let supportCache: Support | undefined;

/**
 * Whether this machine can run the lab: Linux, root, /dev/net/tun, the tools,
 * and a namespace can actually be created (containers may forbid it).
 */
export function netnsSupport(): Support {
  if (supportCache) return supportCache;
  supportCache = probeSupport();
  return supportCache;
}

function probeSupport(): Support {
  if (process.platform !== "linux") return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: "network namespaces and wireguard-go need root" };
  if (!existsSync("/dev/net/tun")) return { ok: false, reason: "/dev/net/tun is missing (wireguard-go needs a tun device)" };
  const missing = REQUIRED_TOOLS.filter((tool) => !onPath(tool));
  if (missing.length > 0) {
    return { ok: false, reason: `missing tools: ${missing.join(", ")} (Debian: wireguard-tools wireguard-go iproute2 nftables iputils-ping)` };
  }
  const probe = `${NAMESPACE_PREFIX}${process.pid}-probe${randomBytes(3).toString("hex")}`;
  try {
    execFileSync("ip", ["netns", "add", probe], { stdio: "pipe" });
  } catch (err) {
    return { ok: false, reason: `cannot create a network namespace: ${stderrOf(err)}` };
  }
  try {
    execFileSync("ip", ["netns", "del", probe], { stdio: "pipe" });
  } catch {
    // the sweep of a later run removes it
  }
  return { ok: true };
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: Buffer | string; message?: string };
  const text = e.stderr ? e.stderr.toString().trim() : "";
  return text || e.message || String(err);
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command (no shell); resolves with its exit code, never rejects for a non-zero exit. */
export function run(argv: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: options.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code !== "number") {
          if ((err as { killed?: boolean }).killed) {
            resolve({ code: 124, stdout, stderr: `${stderr}\n(timed out)` });
            return;
          }
          reject(err);
          return;
        }
        resolve({ code: err ? ((err as { code: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like `run`, but a non-zero exit rejects with the command and its stderr. */
export async function must(argv: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await run(argv, options);
  if (r.code !== 0) throw new Error(`\`${argv.join(" ")}\` exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The namespaces `ip netns list` shows, names only. */
export function listNamespaces(): string[] {
  const out = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name !== "");
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Alive and not a zombie (a child of ours that exited but is not reaped yet counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function pidsIn(ns: string): number[] {
  try {
    const out = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return out
      .split(/\s+/)
      .filter((s) => /^\d+$/.test(s))
      .map(Number);
  } catch {
    return [];
  }
}

/** Kills everything in the namespaces (TERM, then KILL after a grace period) and deletes them. */
function destroyNamespacesSync(namespaces: string[], extraPids: number[] = []): void {
  const pids = new Set<number>(extraPids);
  for (const ns of namespaces) for (const pid of pidsIn(ns)) pids.add(pid);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 1000;
  while ([...pids].some(alive) && Date.now() < deadline) sleepSync(20);
  for (const pid of pids) {
    if (!alive(pid)) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const ns of namespaces) {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      // already deleted
    }
  }
}

/**
 * Removes what earlier runs left behind: namespaces with our prefix whose
 * creating process is gone. Namespaces of a live process (a parallel run) are
 * left alone.
 */
export function sweepLeftovers(): string[] {
  const stale = listNamespaces().filter((ns) => {
    const m = new RegExp(`^${NAMESPACE_PREFIX}(\\d+)-`).exec(ns);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  });
  if (stale.length > 0) destroyNamespacesSync(stale);
  return stale;
}

// Every lab not yet cleaned up, so process exit and signals can clean them.
const liveLabs = new Set<MeshLab>();
let handlersInstalled = false;

function installProcessHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const lab of [...liveLabs]) lab.cleanup();
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = (): void => {
      for (const lab of [...liveLabs]) lab.cleanup();
      process.removeListener(signal, handler);
      process.kill(process.pid, signal); // the default action now: die of the signal
    };
    process.on(signal, handler);
  }
}

export interface LabNode {
  name: string;
  index: number;
  namespace: string;
  /** The WireGuard interface's name (unique on the machine). */
  iface: string;
  /** Underlay address on eth0, without prefix length. */
  underlay: string;
}

/** The parts of a wg-quick file that `wg setconf` does not handle. */
export interface WgQuickFile {
  addresses: string[];
  mtu?: number;
  allowedIps: string[];
  hasPrivateKey: boolean;
}

/** Reads Address, MTU, PrivateKey presence and every peer's AllowedIPs from a wg-quick file. */
export function parseWgQuick(text: string): WgQuickFile {
  const file: WgQuickFile = { addresses: [], allowedIps: [], hasPrivateKey: false };
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!.toLowerCase();
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const values = line
      .slice(eq + 1)
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v !== "");
    if (section === "interface" && key === "address") file.addresses.push(...values);
    if (section === "interface" && key === "mtu") file.mtu = Number(values[0]);
    if (section === "interface" && key === "privatekey") file.hasPrivateKey = true;
    if (section === "peer" && key === "allowedips") file.allowedIps.push(...values);
  }
  return file;
}

export interface LabOptions {
  /** WireGuard listen port every node uses on its underlay address (default 51820). */
  listenPort?: number;
}

export class MeshLab {
  readonly id: string;
  readonly nodes = new Map<string, LabNode>();
  readonly underlayNamespace: string;
  readonly listenPort: number;
  /** Scratch directory for stripped configs and scripts; removed on cleanup. */
  readonly workDir: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly logs = new Map<ChildProcess, string>();
  private cleaned = false;

  private constructor(nodeNames: string[], options: LabOptions) {
    const tag = randomBytes(3).toString("hex");
    this.id = `${NAMESPACE_PREFIX}${process.pid}-${tag}`;
    this.underlayNamespace = `${this.id}-u`;
    this.listenPort = options.listenPort ?? 51820;
    this.workDir = mkdtempSync(path.join(os.tmpdir(), "sp-e2e-lab-"));
    nodeNames.forEach((name, index) => {
      if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw new Error(`lab node name ${JSON.stringify(name)}: use [a-z0-9-]`);
      if (index > 200) throw new Error("at most 200 lab nodes");
      this.nodes.set(name, {
        name,
        index,
        namespace: `${this.id}-${name}`,
        iface: `wg${tag}-${index}`,
        underlay: `198.18.0.${10 + index}`,
      });
    });
  }

  /** Creates the namespaces, the bridge and the veth links; eth0 and lo are up. */
  static async create(nodeNames: string[], options: LabOptions = {}): Promise<MeshLab> {
    installProcessHandlers();
    sweepLeftovers();
    const lab = new MeshLab(nodeNames, options);
    liveLabs.add(lab);
    try {
      await lab.build();
    } catch (err) {
      lab.cleanup();
      throw err;
    }
    return lab;
  }

  node(name: string): LabNode {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no lab node ${name}`);
    return node;
  }

  /** Every namespace this lab made (underlay first). */
  get namespaceNames(): string[] {
    return [...this.namespaces];
  }

  private async addNamespace(ns: string): Promise<void> {
    await must(["ip", "netns", "add", ns]);
    this.namespaces.push(ns);
    await must(["ip", "-n", ns, "link", "set", "lo", "up"]);
  }

  private async build(): Promise<void> {
    const u = this.underlayNamespace;
    await this.addNamespace(u);
    await must(["ip", "-n", u, "link", "add", "br0", "type", "bridge"]);
    await must(["ip", "-n", u, "link", "set", "br0", "up"]);
    for (const node of this.nodes.values()) {
      await this.addNamespace(node.namespace);
      const hostSide = `v${node.index}`;
      await must(["ip", "-n", u, "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", node.namespace]);
      await must(["ip", "-n", u, "link", "set", hostSide, "master", "br0", "up"]);
      await must(["ip", "-n", node.namespace, "addr", "add", `${node.underlay}/24`, "dev", "eth0"]);
      await must(["ip", "-n", node.namespace, "link", "set", "eth0", "up"]);
    }
  }

  /** Runs a command inside a node's namespace. */
  exec(name: string, argv: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    return run(["ip", "netns", "exec", this.node(name).namespace, ...argv], options);
  }

  /** Starts a long-running process in a node's namespace; it is killed on cleanup. */
  spawnIn(name: string, argv: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn("ip", ["netns", "exec", this.node(name).namespace, ...argv], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.children.add(child);
    this.logs.set(child, "");
    const keep = (chunk: Buffer): void => {
      this.logs.set(child, (this.logs.get(child)! + chunk.toString()).slice(-4000));
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("exit", () => this.children.delete(child));
    return child;
  }

  /** The last few KiB a spawned process wrote (for failure messages). */
  logOf(child: ChildProcess): string {
    return this.logs.get(child) ?? "";
  }

  /** Starts wireguard-go in the node's namespace and waits for its control socket. */
  async startWireguard(name: string): Promise<void> {
    const node = this.node(name);
    const child = this.spawnIn(name, ["wireguard-go", node.iface], { WG_PROCESS_FOREGROUND: "1" });
    const socket = path.join(SOCKET_DIR, `${node.iface}.sock`);
    const deadline = Date.now() + 5000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`wireguard-go for ${name} exited: ${this.logOf(child).trim()}`);
      }
      if (existsSync(socket) && (await run(["wg", "show", node.iface])).code === 0) return;
      if (Date.now() > deadline) throw new Error(`wireguard-go for ${name}: no control socket after 5 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Brings a node's WireGuard interface to the state a wg-quick file
   * describes (see the module comment). Re-applying replaces peers, keys,
   * addresses and the routes of a previous apply.
   */
  async applyWgQuick(name: string, confPath: string, options: { privateKeyFile?: string } = {}): Promise<WgQuickFile> {
    const node = this.node(name);
    const ns = node.namespace;
    const parsed = parseWgQuick(readFileSync(confPath, "utf8"));
    // wg-quick wants the file named <iface>.conf; the name inside does not matter for `strip`.
    const stripped = await must(["wg-quick", "strip", confPath]);
    const strippedPath = path.join(this.workDir, `${node.iface}.stripped`);
    writeFileSync(strippedPath, stripped, { mode: 0o600 });
    await must(["wg", "setconf", node.iface, strippedPath]);
    if (options.privateKeyFile) await must(["wg", "set", node.iface, "private-key", options.privateKeyFile]);
    else if (!parsed.hasPrivateKey) throw new Error(`${confPath} has no PrivateKey and no key file was given`);
    await must(["ip", "-n", ns, "addr", "flush", "dev", node.iface]);
    for (const address of parsed.addresses) await must(["ip", "-n", ns, "addr", "add", address, "dev", node.iface]);
    if (parsed.mtu) await must(["ip", "-n", ns, "link", "set", "dev", node.iface, "mtu", String(parsed.mtu)]);
    await must(["ip", "-n", ns, "link", "set", "dev", node.iface, "up"]);
    await must(["ip", "-n", ns, "route", "flush", "dev", node.iface, "proto", "static"]);
    for (const cidr of parsed.allowedIps) {
      await must(["ip", "-n", ns, "route", "replace", cidr, "dev", node.iface, "proto", "static"]);
    }
    return parsed;
  }

  /** Loads an nftables rule file into the node's namespace (replacing nothing else: the namespace starts empty). */
  async applyNft(name: string, file: string): Promise<void> {
    await must(["ip", "netns", "exec", this.node(name).namespace, "nft", "-f", file]);
  }

  /** One ICMP echo with a deadline; true when a reply came back. */
  async ping(from: string, address: string, deadlineSeconds = 2): Promise<boolean> {
    const r = await this.exec(from, ["ping", "-n", "-q", "-c", "1", "-w", String(deadlineSeconds), address], {
      timeoutMs: deadlineSeconds * 1000 + 3000,
    });
    return r.code === 0;
  }

  /**
   * Starts a TCP server in the node's namespace accepting on every given
   * port of `address`; resolves once all are listening.
   */
  async listenTcp(name: string, address: string, ports: number[]): Promise<void> {
    const script = [
      "const net = require('node:net');",
      `const ports = ${JSON.stringify(ports)}; let up = 0;`,
      "for (const port of ports) {",
      "  const server = net.createServer((s) => s.end('ok ' + port + '\\n'));",
      `  server.listen(port, ${JSON.stringify(address)}, () => { if (++up === ports.length) console.log('ready'); });`,
      "  server.on('error', (e) => { console.error(String(e)); process.exit(1); });",
      "}",
    ].join("\n");
    const child = this.spawnIn(name, [process.execPath, "-e", script]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`TCP server in ${name}: not ready after 10 s`)), 10_000);
      child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`TCP server in ${name} exited ${code}: ${this.logOf(child).trim()}`));
      });
    });
  }

  /**
   * From inside a node's namespace, tries a TCP connect to each target at
   * once (one process for all); true for a target when the connection was
   * accepted and the server's greeting came back before the timeout.
   */
  async tcpConnect(from: string, targets: { address: string; port: number }[], timeoutMs = 1500): Promise<boolean[]> {
    const script = [
      "const net = require('node:net');",
      `const targets = ${JSON.stringify(targets)};`,
      "Promise.all(targets.map((t) => new Promise((resolve) => {",
      "  const s = net.connect({ host: t.address, port: t.port });",
      `  const timer = setTimeout(() => { s.destroy(); resolve(false); }, ${timeoutMs});`,
      "  s.once('data', (d) => { clearTimeout(timer); s.destroy(); resolve(String(d).startsWith('ok ' + t.port)); });",
      "  s.once('error', () => { clearTimeout(timer); resolve(false); });",
      "}))).then((r) => console.log(JSON.stringify(r)));",
    ].join("\n");
    const r = await this.exec(from, [process.execPath, "-e", script], { timeoutMs: timeoutMs + 10_000 });
    if (r.code !== 0) throw new Error(`TCP probe from ${from} failed: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as boolean[];
  }

  /**
   * `wg show all dump` restricted to this lab's interfaces, in the lab's
   * node order (the socket directory is machine-wide, so other runs'
   * interfaces would show up too).
   */
  async wgDump(): Promise<string> {
    const ifaces = new Set([...this.nodes.values()].map((n) => n.iface));
    const out = await must(["wg", "show", "all", "dump"]);
    const lines = out.split("\n").filter((line) => ifaces.has(line.split("\t")[0] ?? ""));
    return lines.length > 0 ? `${lines.join("\n")}\n` : "";
  }

  /** Kills every process and deletes every namespace of the lab; safe to call twice. */
  cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    liveLabs.delete(this);
    const childPids = [...this.children].map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
    destroyNamespacesSync([...this.namespaces].reverse(), childPids);
    for (const node of this.nodes.values()) rmSync(path.join(SOCKET_DIR, `${node.iface}.sock`), { force: true });
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
