/**
 * `swarm-policy mesh plan|verify|graph|keys`: the WireGuard mesh runtime
 * (docs/mesh.md, docs/cli.md "swarm-policy mesh").
 *
 *   mesh plan   PATH... --nodes FILE --out DIR     wg-quick configs, nftables rules, plan.json
 *   mesh verify PATH... --nodes FILE --dump FILE|- drift between the plan and `wg show all dump`
 *   mesh graph  PATH... --nodes FILE [--format mermaid|dot] [--by-tag]
 *   mesh keys gen [--out FILE]                     X25519 key pair in WireGuard base64
 *   mesh keys pub                                  public key of the private key on stdin
 *
 * Exit codes: 0 ok; 1 policy errors, drift; 2 bad usage or unreadable input.
 */
import { Option, type Command } from "commander";
import {
  defaultRenderOptions,
  escapeUnsafe,
  generateKeyPair,
  meshInventoryProblemText,
  parseMeshInventory,
  parsePrivateKey,
  parseWgDump,
  planMesh,
  privateKeyText,
  publicKeyOf,
  renderGraph,
  renderOptionsProblem,
  verifyMesh,
  verifyText,
  writeFileAtomic,
  writePlan,
  type MeshInventoryNode,
  type MeshPlan,
} from "../../index.js";
import { loadEngineOrReport } from "../engine.js";
import { RISK_OPTION_HELP, readRiskOption } from "../risk-file.js";
import { CliError, type CliContext } from "../context.js";
import { parseTimeOption } from "../time-option.js";
import { parseDurationOption } from "../duration-option.js";
import { readJsonFile, readText } from "../json-input.js";
import { withCryptoErrors } from "../keyring-options.js";
import { removingTempFilesOnInterrupt } from "../interrupts.js";
import { checkOutputDirectory, checkOutputFile } from "../output-path.js";
import { readPolicySources } from "../sources.js";

/** Text for the terminal: control and bidi characters (from the policy or the inventory) as \u escapes. */
const printable = escapeUnsafe;

/** Options every planning subcommand shares. */
interface PlanningOptions {
  nodes: string;
  time?: string;
  mesh?: string;
  /** A risk snapshot for quarantined() and risk() (risk-file.ts). */
  risk?: string;
}

/** Read and validate the inventory; every problem is one line naming node and field (exit 2). */
async function readInventory(cli: CliContext, file: string): Promise<MeshInventoryNode[]> {
  const { value: data, name } = await readJsonFile(cli, file, "inventory");
  const r = parseMeshInventory(data);
  if (!r.ok) {
    const lines = r.problems.map((p) => `${name}: ${meshInventoryProblemText(p)}`);
    if (r.omitted > 0) lines.push(`${name}: ... and ${r.omitted} more problem${r.omitted === 1 ? "" : "s"}`);
    throw new CliError(lines.join("\n"));
  }
  return r.nodes;
}

function parseTime(text: string | undefined, now: number): number {
  return text === undefined ? now : parseTimeOption("--time", text);
}

/**
 * Load policies and inventory and plan. Null (after printing the policy
 * errors) when the policies have errors: the caller exits 1.
 */
async function planFromCli(cli: CliContext, paths: string[], opts: PlanningOptions): Promise<MeshPlan | null> {
  const nodes = await readInventory(cli, opts.nodes);
  const time = parseTime(opts.time, Date.now());
  const risk = await readRiskOption(cli, opts.risk);
  const engine = loadEngineOrReport(cli, await readPolicySources(cli, paths), risk !== undefined ? { risk } : {});
  if (engine === null) return null;
  const plan = planMesh(engine, nodes, { time, ...(opts.mesh !== undefined ? { mesh: opts.mesh } : {}) });
  if (typeof plan === "string") throw new CliError(plan);
  return plan;
}

/** The options of every subcommand that plans. */
function planningOptions(cmd: Command): Command {
  return cmd
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .requiredOption("-n, --nodes <file>", "node inventory JSON (an array of nodes, or { nodes: [...] }), or - for stdin")
    .option("--time <rfc3339>", "plan as of this time (admission's `now`; default: the clock)")
    .option("--mesh <name>", "the mesh block to plan, when several are loaded")
    .option("--risk <file>", RISK_OPTION_HELP);
}

interface PlanCliOptions extends PlanningOptions {
  out: string;
  interface?: string;
  keyFile?: string;
  nftFile?: string;
  /** false with --no-nft-hook. */
  nftHook: boolean;
  format: "text" | "json";
}

function registerPlan(mesh: Command, cli: CliContext): void {
  planningOptions(
    mesh
      .command("plan")
      .summary("admit nodes, assign overlay addresses, write wg-quick configs, nftables rules and plan.json")
      .description(
        "Run every inventory node through mesh admission, give admitted nodes stable overlay addresses,\n" +
          "and write DIR/nodes/<id>/<iface>.conf (wg-quick, 0600), DIR/nodes/<id>/<iface>.nft (nftables)\n" +
          "and DIR/plan.json, each atomically. Each config loads its node's rules itself: PreUp runs\n" +
          "`nft -f` on --nft-file (wg-quick up fails if that fails), PostDown removes the table.\n" +
          "Rejected nodes are listed with their reasons (exit 0).\n" +
          "Exits 1 when the policies have errors, 2 for an unreadable or invalid inventory.",
      ),
  )
    .requiredOption("-o, --out <dir>", "output directory (created if missing)")
    .option("--interface <name>", "WireGuard interface name (default: from the mesh name)")
    .option("--key-file <path>", "private key file on each node, read by PostUp (default /etc/wireguard/<iface>.key)")
    .option("--nft-file <path>", "the node's nftables rule file (the .nft written here), loaded by PreUp (default /etc/wireguard/<iface>.nft)")
    .option("--no-nft-hook", "no PreUp/PostDown for the rules: you load the .nft files yourself, or the ports are not enforced")
    .addOption(new Option("-f, --format <format>", "summary format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy mesh plan policies/ --nodes inventory.json --out mesh/\n" +
        "  $ swarm-policy mesh plan policies/mesh --nodes nodes.json --out out/ --time 2026-01-10T00:00:00Z -f json\n",
    )
    .action(
      cli.action(async (paths: string[], opts: PlanCliOptions) => {
        if (!opts.nftHook && opts.nftFile !== undefined) throw new CliError("--nft-file and --no-nft-hook cannot be used together");
        const plan = await planFromCli(cli, paths, opts);
        if (plan === null) return 1;
        const render = defaultRenderOptions(plan, {
          ...(opts.interface !== undefined ? { interface: opts.interface } : {}),
          ...(opts.keyFile !== undefined ? { keyFile: opts.keyFile } : {}),
          ...(!opts.nftHook ? { nftFile: null } : opts.nftFile !== undefined ? { nftFile: opts.nftFile } : {}),
        });
        const problem = renderOptionsProblem(render);
        if (problem) throw new CliError(problem);
        await checkOutputDirectory(cli, opts.out, "the plan");
        const out = cli.resolve(opts.out);
        let result;
        try {
          // A signal meanwhile removes the temporary files of the configs being written.
          result = await removingTempFilesOnInterrupt(() => writePlan(plan, out, render));
        } catch (err) {
          throw new CliError(`cannot write the plan to ${opts.out}: ${(err as Error).message}`);
        }
        const s = result.json.summary;
        if (opts.format === "json") {
          cli.io.stdout(
            JSON.stringify({ out: opts.out, summary: s, rejected: result.json.rejected, written: result.written, removed: result.removed }, null, 2) + "\n",
          );
          return 0;
        }
        cli.io.stdout(
          printable(`mesh ${JSON.stringify(plan.settings.name)}: ${s.admitted} admitted, ${s.rejected} rejected, ${s.peerings} peerings (at most ${s.max_peers} peers per node)`) + "\n",
        );
        for (const r of plan.rejected) cli.io.stdout(printable(`  rejected ${r.id}: ${[...r.reasons, ...r.errors.map((e) => e.message)].join("; ")}`) + "\n");
        cli.io.stdout(`wrote ${result.written.length} files to ${opts.out}${result.removed.length ? `, removed ${result.removed.length} stale` : ""}\n`);
        return 0;
      }),
    );
}

interface VerifyCliOptions extends PlanningOptions {
  dump: string;
  interface?: string;
  handshakeWithin?: string;
  allNodes: boolean;
  format: "text" | "json";
}

function registerVerify(mesh: Command, cli: CliContext): void {
  planningOptions(
    mesh
      .command("verify")
      .summary("report drift between the plan and a live `wg show all dump`")
      .description(
        "Plan the mesh as of now (or --time) and compare it with `wg show all dump` output: peers the policy\n" +
          "does not allow, allowed peers missing, AllowedIPs wider than planned, keys older than key_age,\n" +
          "wrong listen ports, unknown interfaces, unreadable lines, and with --handshake-within, peers with\n" +
          "no recent handshake. Interfaces are matched to nodes by their public key.\n" +
          "Exits 0 with no drift, 1 on drift or policy errors, 2 for unreadable input.",
      ),
  )
    .requiredOption("-d, --dump <file>", "`wg show all dump` output, or - for standard input")
    .option("--interface <name>", "check only this interface")
    .option("--handshake-within <duration>", "drift when a planned peer has had no handshake for this long (e.g. 5m)")
    .option("--all-nodes", "the dump covers the whole mesh: an admitted node without an interface is drift", false)
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ wg show all dump | swarm-policy mesh verify policies/ --nodes inventory.json --dump - --interface swarm\n" +
        "  $ swarm-policy mesh verify policies/ -n inventory.json -d dump.txt --handshake-within 5m -f json\n",
    )
    .action(
      cli.action(async (paths: string[], opts: VerifyCliOptions) => {
        if (opts.dump === "-" && opts.nodes === "-") throw new CliError("--dump and --nodes cannot both read standard input");
        let handshakeWithinMs: number | undefined;
        if (opts.handshakeWithin !== undefined) handshakeWithinMs = parseDurationOption("--handshake-within", opts.handshakeWithin, { positive: true });
        const dumpText = await readText(cli, opts.dump, "dump");
        const plan = await planFromCli(cli, paths, opts);
        if (plan === null) return 1;
        const report = verifyMesh(plan, parseWgDump(dumpText), {
          now: Date.parse(plan.time),
          ...(handshakeWithinMs !== undefined ? { handshakeWithinMs } : {}),
          ...(opts.interface !== undefined ? { interfaceName: opts.interface } : {}),
          allNodes: opts.allNodes,
        });
        if (opts.format === "json") {
          const s = plan.settings;
          cli.io.stdout(JSON.stringify({ mesh: s.name, time: plan.time, policy_version: plan.policyVersion, ...report }, null, 2) + "\n");
        } else cli.io.stdout(verifyText(report));
        return report.drift ? 1 : 0;
      }),
    );
}

interface GraphCliOptions extends PlanningOptions {
  format: "mermaid" | "dot";
  byTag: boolean;
}

function registerGraph(mesh: Command, cli: CliContext): void {
  planningOptions(
    mesh
      .command("graph")
      .summary("draw admitted nodes and allowed flows as Mermaid or DOT")
      .description(
        "Draw the planned mesh: admitted nodes with their addresses and arrows for the allowed flows\n" +
          "(labelled with ports), rejected nodes apart with their reasons. --by-tag draws one box per tag\n" +
          "instead, for large meshes (a per-node drawing is refused above 2000 arrows).",
      ),
  )
    .addOption(new Option("-f, --format <format>", "drawing format").choices(["mermaid", "dot"]).default("mermaid"))
    .option("--by-tag", "one box per tag and one arrow per connect rule", false)
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy mesh graph policies/ --nodes inventory.json > mesh.mmd\n" +
        "  $ swarm-policy mesh graph policies/ --nodes inventory.json -f dot --by-tag | dot -Tsvg > mesh.svg\n",
    )
    .action(
      cli.action(async (paths: string[], opts: GraphCliOptions) => {
        const plan = await planFromCli(cli, paths, opts);
        if (plan === null) return 1;
        const drawn = renderGraph(plan, { format: opts.format, byTag: opts.byTag });
        if (typeof drawn !== "string") throw new CliError(drawn.error);
        cli.io.stdout(drawn);
        return 0;
      }),
    );
}

interface KeysGenOptions {
  out?: string;
  force: boolean;
  format: "text" | "json";
}

function registerKeys(mesh: Command, cli: CliContext): void {
  const keys = mesh.command("keys").summary("WireGuard key pairs (X25519, base64)").description("WireGuard key pairs: `gen` makes one, `pub` derives a public key.");
  keys
    .command("gen")
    .summary("make a WireGuard key pair")
    .description(
      "Make a clamped X25519 key pair in WireGuard's base64 form (what `wg genkey | wg pubkey` gives).\n" +
        "With --out, the private key goes to FILE (mode 0600, refused if FILE exists unless --force)\n" +
        "and only the public key is printed. Without it, the private key is printed on the first line\n" +
        "and the public key on the second. JSON output never carries the private key: it needs --out.",
    )
    .option("-o, --out <file>", "write the private key to this file (0600) and print only the public key")
    .option("--force", "replace an existing --out file", false)
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy mesh keys gen --out /etc/wireguard/swarm.key    # prints the public key\n" +
        "  $ swarm-policy mesh keys gen -f json --out node.key            # {\"public_key\": ..., \"private_key_file\": ...}\n",
    )
    .action(
      cli.action(async (opts: KeysGenOptions) => {
        if (opts.format === "json" && opts.out === undefined) throw new CliError("--format json needs --out FILE: JSON output never carries a private key");
        if (opts.out !== undefined) await checkOutputFile(cli, opts.out);
        const pair = generateKeyPair();
        try {
          if (opts.out === undefined) {
            cli.io.stdout(`${privateKeyText(pair.privateKey)}\n${pair.publicKey}\n`);
            return 0;
          }
          try {
            // As the key verbs do: SIGINT, SIGTERM or SIGHUP meanwhile removes the temporary key file.
            await withCryptoErrors(() => writeFileAtomic(cli.resolve(opts.out!), `${privateKeyText(pair.privateKey)}\n`, { mode: 0o600, exclusive: !opts.force }));
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            throw new CliError(code === "EEXIST" ? `${opts.out} exists; use --force to replace it` : `cannot write ${opts.out}: ${(err as Error).message}`);
          }
          cli.io.stdout(opts.format === "json" ? JSON.stringify({ public_key: pair.publicKey, private_key_file: opts.out }) + "\n" : `${pair.publicKey}\n`);
          return 0;
        } finally {
          pair.privateKey.destroy();
        }
      }),
    );
  keys
    .command("pub")
    .summary("print the public key of the private key on standard input")
    .description("Read a WireGuard private key (base64) on standard input and print its public key, as `wg pubkey` does.")
    .addHelpText("after", "\nExample:\n  $ swarm-policy mesh keys pub < /etc/wireguard/swarm.key\n")
    .action(
      cli.action(async () => {
        let key;
        try {
          key = parsePrivateKey(await cli.io.readStdin());
        } catch (err) {
          throw new CliError(`standard input: ${(err as Error).message}`);
        }
        cli.io.stdout(`${publicKeyOf(key)}\n`);
        key.destroy();
        return 0;
      }),
    );
}

export function register(program: Command, cli: CliContext): void {
  const mesh = program
    .command("mesh")
    .summary("WireGuard mesh: plan configs, verify a live mesh, draw it, make keys")
    .description("The WireGuard mesh of a `mesh` block: plan, verify, graph, keys (see docs/mesh.md).")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy mesh plan policies/ --nodes inventory.json --out mesh/\n" +
        "  $ wg show all dump | swarm-policy mesh verify policies/ --nodes inventory.json --dump -\n" +
        "  $ swarm-policy mesh graph policies/ --nodes inventory.json --format dot | dot -Tsvg > mesh.svg\n" +
        "  $ swarm-policy mesh keys gen --out /etc/wireguard/swarm.key\n",
    );
  registerPlan(mesh, cli);
  registerVerify(mesh, cli);
  registerGraph(mesh, cli);
  registerKeys(mesh, cli);
}
