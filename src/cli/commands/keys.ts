/**
 * `swarm-policy keys init|rotate|list|retire --keyring DIR`: the keyring's
 * key-encryption keys (docs/keyring.md). `list --policies PATH...` checks
 * each version's age against the policies' `require key_age` limits and
 * exits 1 when a primary version is over one of them (rotation is due).
 */
import { Option, type Command } from "commander";
import {
  Keyring,
  KeyringEnrollments,
  KeyringError,
  MfaEnrollmentError,
  KEYRING_KEY_ENV,
  Engine,
  checkKeyAges,
  keyAgeRequirements,
  parseUnlockKey,
  type KekInfo,
  type KekAgeReport,
  type KeyAgeRequirement,
  type ProtectionKind,
} from "../../index.js";
import { CliError, type CliContext } from "../context.js";
import { reportPolicyErrors } from "../engine.js";
import { readPolicySources } from "../sources.js";
import { PASSPHRASE_ENV, addKeyringOptions, keyringDir, openKeyring, readPassphrase, withCryptoErrors, type KeyringCliOptions } from "../keyring-options.js";

interface FormatOption {
  format: "text" | "json";
}

const formatOption = () => new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text");

function kekJson(k: KekInfo) {
  return { id: k.id, version: k.version, status: k.status, created_at: k.createdAt.toISOString(), retired_at: k.retiredAt?.toISOString() ?? null };
}

function printKek(cli: CliContext, opts: FormatOption, what: string, ring: Keyring, kek: KekInfo): void {
  if (opts.format === "json") cli.io.stdout(JSON.stringify({ keyring: ring.dir, kek: kekJson(kek) }, null, 2) + "\n");
  else cli.io.stdout(`${what} KEK "${kek.id}" version ${kek.version} (${kek.status}) in ${ring.dir}\n`);
}

async function init(cli: CliContext, opts: KeyringCliOptions & FormatOption & { id?: string; protect: ProtectionKind; scryptLogN?: string }) {
  const dir = keyringDir(cli, opts);
  const passphrase = opts.protect === "passphrase" ? await readPassphrase(cli, opts) : undefined;
  if (opts.protect === "passphrase" && passphrase === undefined) {
    throw new CliError(`--protect passphrase needs a passphrase: set ${PASSPHRASE_ENV} or pass --passphrase-file`);
  }
  const unlockKey = opts.protect === "env" ? parseUnlockKey(cli.io.env[KEYRING_KEY_ENV]) : undefined;
  const logN = opts.scryptLogN === undefined ? undefined : Number(opts.scryptLogN);
  try {
    const ring = await Keyring.create(dir, {
      protect: opts.protect,
      ...(opts.id === undefined ? {} : { id: opts.id }),
      ...(passphrase === undefined ? {} : { passphrase }),
      ...(unlockKey === undefined ? {} : { unlockKey }),
      ...(logN === undefined ? {} : { scrypt: { logN, r: 8, p: 1 } }),
    });
    printKek(cli, opts, `created keyring (protection ${ring.protection}) with`, ring, ring.list()[0]!);
  } catch (err) {
    // An existing keyring with a new --id gains that KEK; anything else is an error.
    if (!(err instanceof KeyringError && err.code === "exists" && opts.id !== undefined)) throw err;
    const ring = await openKeyring(cli, opts);
    printKek(cli, opts, "added", ring, await ring.addKek(opts.id));
  }
  return 0;
}

async function rotate(cli: CliContext, opts: KeyringCliOptions & FormatOption & { id?: string }) {
  const ring = await openKeyring(cli, opts);
  printKek(cli, opts, "rotated: new primary", ring, await ring.rotate(opts.id ?? ring.defaultId));
  return 0;
}

async function retire(cli: CliContext, version: string, opts: KeyringCliOptions & FormatOption & { id?: string; force?: boolean }) {
  const n = Number(version);
  if (!/^[1-9][0-9]{0,9}$/.test(version) || n > 0xffffffff) throw new CliError(`version must be a positive integer, not "${version}"`);
  const ring = await openKeyring(cli, opts);
  const id = opts.id ?? ring.defaultId;
  let retired: KekInfo;
  try {
    // Under the enrolment lock, which `mfa enroll` and `mfa rewrap` seal under (after reading the
    // key files again): no secret is sealed under the version between the check and the retirement.
    retired = await new KeyringEnrollments(ring).exclusive(async () => {
      await ring.refresh();
      if (!opts.force) await refuseIfSealsMfaSecrets(ring, id, n);
      return ring.retire(id, n);
    });
  } catch (err) {
    if (err instanceof MfaEnrollmentError && err.code === "busy") throw new CliError(`${err.message} (mfa enroll or mfa rewrap)`, 1);
    throw err;
  }
  printKek(cli, opts, "retired", ring, retired);
  return 0;
}

/** Retiring a version that still seals MFA secrets would lock those users out: refuse (exit 1) unless --force. */
async function refuseIfSealsMfaSecrets(ring: Keyring, id: string, version: number): Promise<void> {
  let users: string[];
  try {
    users = (await new KeyringEnrollments(ring).list()).filter((e) => e.kek.id === id && e.kek.version === version).map((e) => e.user).sort();
  } catch (err) {
    if (!(err instanceof MfaEnrollmentError)) throw err;
    throw new CliError(`cannot tell which KEK versions the MFA secrets use (${err.message}); fix or remove that file, or pass --force to retire anyway`);
  }
  if (users.length === 0) return;
  const shown = users.slice(0, 5).join(", ") + (users.length > 5 ? `, and ${users.length - 5} more` : "");
  throw new CliError(
    `KEK "${id}" version ${version} still seals the MFA secrets of ${users.length} user${users.length === 1 ? "" : "s"} (${shown}): ` +
      "run `swarm-policy mfa rewrap` first, or pass --force to retire it anyway (they could no longer verify)",
    1,
  );
}

async function requirementsFrom(cli: CliContext, paths: string[] | undefined): Promise<KeyAgeRequirement[] | null> {
  if (paths === undefined || paths.length === 0) return null;
  const sources = await readPolicySources(cli, paths);
  const engine = new Engine(sources, []);
  if (engine.diagnostics.some((d) => d.severity === "error")) {
    reportPolicyErrors(cli, engine, sources);
    throw new CliError("the policies have errors", 1);
  }
  return keyAgeRequirements(engine.files);
}

function ageColumn(report: KekAgeReport): string {
  if (report.kek.status === "retired") return "-";
  if (report.future && report.checks.length > 0) return "AGE UNKNOWN: created after now";
  const over = report.checks.filter((c) => !c.ok);
  if (over.length === 0) return report.checks.length === 0 ? "no limit" : `within ${report.checks[0]!.maxKeyAge} (all)`;
  return `OVER ${over.map((c) => `${c.maxKeyAge} ${c.rule}`).join(", ")}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd() + "\n").join("");
}

async function list(cli: CliContext, opts: KeyringCliOptions & FormatOption & { policies?: string[] }) {
  const requirements = await requirementsFrom(cli, opts.policies);
  const ring = await openKeyring(cli, opts);
  const reports = checkKeyAges(ring.list(), requirements ?? [], Date.now());
  const overdue = reports.some((r) => r.kek.status === "primary" && r.checks.some((c) => !c.ok));
  if (opts.format === "json") {
    const keks = reports.map((r) => ({
      ...kekJson(r.kek),
      age: r.age,
      age_seconds: Math.floor(r.ageMs / 1000),
      ...(requirements === null ? {} : { key_age: r.checks, age_unknown: r.future }),
    }));
    const doc = { keyring: ring.dir, protection: ring.protection, default: ring.defaultId, keks, ...(requirements === null ? {} : { requirements, overdue }) };
    cli.io.stdout(JSON.stringify(doc, null, 2) + "\n");
  } else {
    cli.io.stdout(`keyring ${ring.dir} (protection ${ring.protection}, default KEK "${ring.defaultId}")\n`);
    const head = ["KEK", "VERSION", "STATUS", "CREATED", "AGE", ...(requirements === null ? [] : ["KEY_AGE"])];
    const rows = reports.map((r) => [
      r.kek.id,
      String(r.kek.version),
      r.kek.status,
      r.kek.createdAt.toISOString(),
      r.age,
      ...(requirements === null ? [] : [ageColumn(r)]),
    ]);
    cli.io.stdout(table([head, ...rows]));
    if (requirements !== null) {
      const limits = requirements.map((q) => `${q.maxKeyAge} ${q.rule}`).join(", ");
      cli.io.stdout(`key_age limits: ${limits === "" ? "none in these policies" : limits}\n`);
      if (overdue) cli.io.stdout("a primary KEK is older than a key_age limit: rotate it (swarm-policy keys rotate)\n");
    }
  }
  return overdue ? 1 : 0;
}

export function register(program: Command, cli: CliContext): void {
  const keys = program
    .command("keys")
    .summary("manage the keyring's key-encryption keys")
    .description(
      "Manage the key-encryption keys (KEKs) of a keyring directory (docs/keyring.md).\n" +
        "The keyring defaults to $SWARM_POLICY_KEYRING. A protected keyring is unlocked by\n" +
        `$${PASSPHRASE_ENV} or --passphrase-file (passphrase), or $${KEYRING_KEY_ENV} (unlock key).`,
    )
    .addHelpText("after", "\nExamples:\n  $ swarm-policy keys init --keyring /etc/swarm/keys\n  $ swarm-policy keys list --keyring /etc/swarm/keys --policies policies/\n");

  addKeyringOptions(keys.command("init"))
    .description("create a keyring with its first KEK, or add a KEK id (--id) to an existing one")
    .option("--id <id>", 'the KEK id (default "kek" for a new keyring)')
    .addOption(new Option("--protect <how>", "protection of key files at rest").choices(["none", "passphrase", "env"]).default("none"))
    .addOption(new Option("--scrypt-log-n <n>", "scrypt cost 2^n for --protect passphrase (default 17; lower only for tests)").hideHelp())
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExamples:\n  $ swarm-policy keys init --keyring ring/\n" +
        `  $ ${PASSPHRASE_ENV}=... swarm-policy keys init --keyring ring/ --protect passphrase\n` +
        `  $ export ${KEYRING_KEY_ENV}="$(openssl rand -base64 32)"   # keep it in your secret store first: nothing else opens the keyring\n` +
        "  $ swarm-policy keys init --keyring ring/ --protect env\n" +
        "  $ swarm-policy keys init --keyring ring/ --id tenant-acme\n",
    )
    .action(cli.action((opts) => withCryptoErrors(() => init(cli, opts))));

  addKeyringOptions(keys.command("rotate"))
    .description("add a new primary version of a KEK; older versions keep decrypting until retired")
    .option("--id <id>", "the KEK id (default: the keyring's default)")
    .addOption(formatOption())
    .addHelpText("after", "\nExample:\n  $ swarm-policy keys rotate --keyring ring/\n")
    .action(cli.action((opts) => withCryptoErrors(() => rotate(cli, opts))));

  addKeyringOptions(keys.command("list"))
    .description("list KEK versions with their ages; with --policies, check them against the key_age limits (exit 1 when a primary is over one)")
    .option("--policies <paths...>", "policy files or directories whose `require key_age` limits to check")
    .addOption(formatOption())
    .addHelpText("after", "\nExample:\n  $ swarm-policy keys list --keyring ring/ --policies policies/ --format json\n")
    .action(cli.action((opts) => withCryptoErrors(() => list(cli, opts))));

  addKeyringOptions(keys.command("retire"))
    .summary("retire a KEK version: its key is erased (rewrap first); refused while MFA secrets need it")
    .description(
      "retire a KEK version: its key is erased and data wrapped under it no longer decrypts (rewrap first);\n" +
        "refused (exit 1) while MFA secrets are still sealed under it (mfa rewrap first) unless --force",
    )
    .argument("<version>", "the version to retire")
    .option("--id <id>", "the KEK id (default: the keyring's default)")
    .option("--force", "retire even though MFA secrets are still sealed under the version", false)
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  $ swarm-policy rewrap --keyring ring/ data/*.spev && swarm-policy mfa rewrap --keyring ring/ && swarm-policy keys retire --keyring ring/ 1\n",
    )
    .action(cli.action((version, opts) => withCryptoErrors(() => retire(cli, version, opts))));
}
