/**
 * What the key verbs (keys, encrypt, decrypt, rewrap) share: the `--keyring`
 * option with its $SWARM_POLICY_KEYRING default, the unlock secrets
 * ($SWARM_POLICY_PASSPHRASE or --passphrase-file, $SWARM_POLICY_KEYRING_KEY),
 * and turning keyring and envelope errors into one-line CLI errors (exit 2
 * for an unusable keyring, 1 for a refusal or data that is not authentic).
 */
import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { EnvelopeError, escapeUnsafe, KEYRING_KEY_ENV, Keyring, KeyringError, OutputIsSymlinkError, OutputNotRegularFileError, PolicyRefusal, parseUnlockKey, type KeyringOptions } from "../index.js";
import { CliError, type CliContext } from "./context.js";
import { removingTempFilesOnInterrupt } from "./interrupts.js";

export const KEYRING_ENV = "SWARM_POLICY_KEYRING";
export const PASSPHRASE_ENV = "SWARM_POLICY_PASSPHRASE";

export interface KeyringCliOptions {
  keyring?: string;
  passphraseFile?: string;
}

/** Adds --keyring and --passphrase-file to a command. */
export function addKeyringOptions(command: Command): Command {
  return command
    .addOption(new Option("--keyring <dir>", `keyring directory (default: $${KEYRING_ENV})`))
    .addOption(new Option("--passphrase-file <file>", `file whose first line unlocks a passphrase-protected keyring (default: $${PASSPHRASE_ENV})`));
}

export function keyringDir(cli: CliContext, opts: KeyringCliOptions): string {
  const dir = opts.keyring ?? cli.io.env[KEYRING_ENV];
  if (dir === undefined || dir === "") throw new CliError(`no keyring: pass --keyring DIR or set ${KEYRING_ENV}`);
  return cli.resolve(dir);
}

/** The passphrase from --passphrase-file (first line) or the environment; undefined when neither is given. */
export async function readPassphrase(cli: CliContext, opts: KeyringCliOptions): Promise<string | undefined> {
  if (opts.passphraseFile !== undefined) {
    let text: string;
    try {
      text = await readFile(cli.resolve(opts.passphraseFile), "utf8");
    } catch (err) {
      throw new CliError(`cannot read passphrase file ${opts.passphraseFile}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
    const line = text.split(/\r?\n/, 1)[0] ?? "";
    if (line === "") throw new CliError(`passphrase file ${opts.passphraseFile} is empty`);
    return line;
  }
  const env = cli.io.env[PASSPHRASE_ENV];
  return env === undefined || env === "" ? undefined : env;
}

/** The unlock secrets available to this process (the keyring takes the one its protection needs). */
export async function unlockOptions(cli: CliContext, opts: KeyringCliOptions): Promise<KeyringOptions> {
  const passphrase = await readPassphrase(cli, opts);
  const envKey = cli.io.env[KEYRING_KEY_ENV];
  const unlockKey = envKey === undefined || envKey === "" ? undefined : parseUnlockKey(envKey);
  return { ...(passphrase === undefined ? {} : { passphrase }), ...(unlockKey === undefined ? {} : { unlockKey }) };
}

export async function openKeyring(cli: CliContext, opts: KeyringCliOptions): Promise<Keyring> {
  const dir = keyringDir(cli, opts);
  return Keyring.open(dir, await unlockOptions(cli, opts));
}

const LOCKED_HINT: Record<string, string> = {
  locked: ` (set ${PASSPHRASE_ENV} or pass --passphrase-file for a passphrase; set ${KEYRING_KEY_ENV} for an unlock key)`,
};

/**
 * `message` with control and bidi characters written as \u escapes. Messages quote
 * what an encrypted file's header says (its KEK id, read before anything is
 * authenticated), so a crafted file must not reach the terminal with escape
 * sequences that move the cursor, rewrite earlier lines or set the title.
 */
const printable = escapeUnsafe;

const UNPARSABLE: ReadonlySet<string> = new Set(["malformed", "unsupported-version", "unknown-cipher"]);
const REFUSALS: ReadonlySet<string> = new Set([
  "not-authentic",
  "truncated",
  "missing-aad",
  "bad-aad-value",
  "aad-mismatch",
  "not-attested",
  "key-limit",
  "unknown-kek",
]);

/**
 * A keyring, envelope, stream or policy failure as a CliError: refusals and
 * unauthentic data exit 1, an unusable keyring or request exits 2; anything
 * else (a bug, an I/O error) is returned as is.
 */
export function toCliError(err: unknown): unknown {
  if (err instanceof OutputIsSymlinkError || err instanceof OutputNotRegularFileError) return new CliError(printable(err.message), 2);
  if (err instanceof PolicyRefusal) return new CliError(`refused: ${printable(err.message)}`, 1);
  if (err instanceof EnvelopeError) {
    // A header that starts with our magic and then does not parse was damaged or tampered with:
    // data that is not authentic (exit 1), as a flipped byte anywhere else is. Only input that
    // is not an envelope at all (no magic) is unreadable input (exit 2).
    if (UNPARSABLE.has(err.code)) return new CliError(`not authentic (malformed header): ${printable(err.message)}`, 1);
    return new CliError(printable(err.message), REFUSALS.has(err.code) ? 1 : 2);
  }
  if (err instanceof KeyringError) {
    return new CliError(printable(err.message) + (LOCKED_HINT[err.code] ?? ""), err.code === "retired" || err.code === "unknown-kek" ? 1 : 2);
  }
  return err;
}

/**
 * Runs a key verb's body, turning its failures into CliErrors (see toCliError).
 * While it runs, SIGINT, SIGTERM and SIGHUP remove the verb's temporary files
 * before the process ends (exit 130, 143, 129).
 */
export async function withCryptoErrors<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await removingTempFilesOnInterrupt(body);
  } catch (err) {
    throw toCliError(err);
  }
}
