/**
 * `swarm-policy mfa enroll USER --keyring DIR [--force]`,
 * `swarm-policy mfa verify USER CODE --keyring DIR` and
 * `swarm-policy mfa rewrap --keyring DIR` (docs/mfa.md).
 *
 * enroll prints the new secret once, as an otpauth:// URI and a QR code;
 * nothing else ever shows it. verify exits 0 for a valid code and 1 for
 * anything else (wrong, malformed, used, locked, not enrolled); 2 is bad
 * usage or a keyring / state file that cannot be used. One process per
 * verification, so used codes and lockouts live in the keyring's `mfa/`
 * directory (FileMfaStateStore). Security events go to stderr as JSON lines,
 * or appended to --events FILE. rewrap re-seals every enrolled secret under
 * the default KEK's current primary (after `keys rotate`, before `keys retire`).
 */
import { Option, type Command } from "commander";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import {
  FileMfaStateStore,
  KeyringEnrollments,
  MFA_DIR,
  MfaEnrollmentError,
  MfaStateError,
  MfaVerifier,
  TOTP_SECRET_BYTES,
  checkUserName,
  otpauthUri,
  shouldColor,
  terminalQr,
  type MfaEvent,
} from "../../index.js";
import { CliError, type CliContext } from "../context.js";
import { addKeyringOptions, openKeyring, withCryptoErrors, type KeyringCliOptions } from "../keyring-options.js";

interface MfaCliOptions extends KeyringCliOptions {
  format: "text" | "json";
  events: string;
}

const formatOption = () => new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text");
const eventsOption = () => new Option("--events <file>", "append security events (JSON lines) to this file; - for stderr").default("-");

/**
 * Where security events go. The file is opened (append, 0600) before the
 * operation, so an unwritable log fails the command before a code is used
 * up or a secret replaced; events are written, in order, when it ends.
 * A file found ending in part of a line (a process killed between the parts
 * of a short write, a full disk) gets a newline first, so the first event
 * written is a line of its own rather than the end of an unreadable one.
 */
class EventOutput {
  readonly events: MfaEvent[] = [];
  readonly push = (e: MfaEvent) => void this.events.push(e);
  private constructor(
    private readonly cli: CliContext,
    private readonly where: string,
    private readonly handle: FileHandle | null,
    private readonly endsInFragment: boolean,
  ) {}

  static async open(cli: CliContext, where: string): Promise<EventOutput> {
    if (where === "-") return new EventOutput(cli, where, null, false);
    const file = cli.resolve(where);
    let handle: FileHandle;
    try {
      // a+ to read the last byte; a file we may append to but not read is appended to unchecked.
      handle = await open(file, "a+", 0o600).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "EACCES") return open(file, "a", 0o600);
        throw err;
      });
    } catch (err) {
      throw new CliError(`cannot append events to ${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let fragment = false;
    try {
      const { size } = await handle.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        const { bytesRead } = await handle.read(last, 0, 1, size - 1);
        fragment = bytesRead === 1 && last[0] !== 0x0a;
      }
    } catch {
      // not readable back (opened "a", a FIFO): appended to as before
    }
    return new EventOutput(cli, where, handle, fragment);
  }

  async close(): Promise<void> {
    const lines = this.events.map((e) => JSON.stringify(e) + "\n").join("");
    const text = this.endsInFragment && this.handle !== null && lines !== "" ? "\n" + lines : lines;
    if (this.handle === null) {
      this.cli.io.stderr(text);
      return;
    }
    try {
      await this.handle.writeFile(text);
    } catch (err) {
      throw new CliError(`cannot append events to ${this.where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    } finally {
      await this.handle.close();
    }
  }
}

function userArg(user: string): string {
  const name = checkUserName(user);
  if (name === null) throw new CliError("USER must be 1 to 256 characters without control characters");
  return name;
}

/** Keyring, envelope, enrolment and state errors as one-line CLI errors (never holding a secret). */
async function withMfaErrors<T>(body: () => Promise<T>): Promise<T> {
  return withCryptoErrors(async () => {
    try {
      return await body();
    } catch (err) {
      if (err instanceof MfaEnrollmentError) throw new CliError(err.code === "enrolled" ? `${err.message.replace(/; replacing.*$/, "")}: pass --force to replace the secret` : err.message);
      if (err instanceof MfaStateError) throw new CliError(err.message);
      throw err;
    }
  });
}

/**
 * The text output draws the URI as a QR code, which holds at most about 2.3 KB; a long
 * non-ASCII user and issuer, percent-encoded, exceed it. Checked with a blank secret of
 * the real length before anything is enrolled: failing after, the user would be enrolled
 * with a secret nobody was shown.
 */
async function checkQrFits(user: string, issuer: string): Promise<void> {
  const uri = otpauthUri({ issuer, account: user, secret: new Uint8Array(TOTP_SECRET_BYTES), algorithm: "sha1", digits: 6, period: 30 });
  try {
    await terminalQr(uri);
  } catch {
    throw new CliError(`the otpauth URI for this user and issuer (${uri.length} characters) is too long for a QR code: use a shorter --issuer, or --format json`);
  }
}

async function enroll(cli: CliContext, user: string, opts: MfaCliOptions & { force: boolean; issuer: string }): Promise<number> {
  const name = userArg(user);
  if (opts.issuer === "" || opts.issuer.length > 128) throw new CliError("--issuer must be 1 to 128 characters");
  if (opts.issuer.includes(":")) throw new CliError("--issuer must not contain ':' (authenticator apps split the label at it)");
  if (opts.format === "text") await checkQrFits(name, opts.issuer);
  const events = await EventOutput.open(cli, opts.events);
  const ring = await openKeyring(cli, opts).catch(async (err) => {
    await events.close();
    throw err;
  });
  try {
    const state = new FileMfaStateStore(path.join(ring.dir, MFA_DIR));
    // A state file that cannot be used refuses before a secret is replaced: failing after it,
    // the new secret would never be shown and the old one would be gone.
    if (opts.force) await state.size();
    const enrollments = new KeyringEnrollments(ring, { onEvent: events.push });
    const { secret, enrollment, replaced } = await enrollments.enroll(name, { force: opts.force });
    let uri: string;
    try {
      uri = otpauthUri({ issuer: opts.issuer, account: name, secret: secret.exposeBytes(), ...enrollment.totp });
    } finally {
      secret.destroy();
    }
    const { algorithm, digits, period } = enrollment.totp;
    if (opts.format === "json") {
      const doc = { user: name, replaced, created_at: enrollment.createdAt, issuer: opts.issuer, algorithm: algorithm.toUpperCase(), digits, period, otpauth_uri: uri };
      cli.io.stdout(JSON.stringify(doc, null, 2) + "\n");
    } else {
      cli.io.stdout(
        `${replaced ? "Re-enrolled" : "Enrolled"} ${name}: TOTP, ${algorithm.toUpperCase()}, ${digits} digits, ${period} s.\n` +
          "Add it to an authenticator app now: this is the only time the secret is shown.\n\n" +
          `${uri}\n\n${await terminalQr(uri, { color: shouldColor(cli.io.stdoutIsTTY, cli.io.env) })}\n`,
      );
    }
    // Codes used under the old secret mean nothing for the new one. After the secret is shown:
    // forgetting them only spares a false "already used" in the next minute or so.
    if (replaced) {
      await state.forgetReplay(name).catch((err: unknown) => {
        cli.io.stderr(`swarm-policy: warning: ${name}'s used codes were not forgotten (${(err as Error).message}); a new code may be refused as used for up to ${2 * period} s\n`);
      });
    }
  } finally {
    ring.close();
    await events.close();
  }
  return 0;
}

async function verify(cli: CliContext, user: string, code: string, opts: MfaCliOptions): Promise<number> {
  const name = userArg(user);
  // `-`: the code from standard input, so it does not show in the process list.
  const given = code === "-" ? ((await cli.io.readStdin()).split(/\r?\n/, 1)[0] ?? "") : code;
  const events = await EventOutput.open(cli, opts.events);
  const ring = await openKeyring(cli, opts).catch(async (err) => {
    await events.close();
    throw err;
  });
  let result;
  try {
    const state = new FileMfaStateStore(path.join(ring.dir, MFA_DIR));
    const verifier = new MfaVerifier({ secrets: new KeyringEnrollments(ring), replay: state, lockout: state, onEvent: events.push });
    result = await verifier.verify(name, given);
  } finally {
    ring.close();
    await events.close();
  }
  if (opts.format === "json") {
    cli.io.stdout(JSON.stringify(result, null, 2) + "\n");
  } else if (result.valid) {
    cli.io.stdout(`valid: ${name} verified at ${result.verifiedAt}\n`);
  } else if (result.reason === "locked") {
    cli.io.stdout(`locked: too many failed codes for ${name}; try again in ${Math.ceil((result.retryAfterMs ?? 0) / 1000)} s\n`);
  } else {
    cli.io.stdout(`invalid code${result.reason === "replay" ? " (already used)" : result.reason === "not-enrolled" ? ` (${name} is not enrolled)` : ""}\n`);
  }
  return result.valid ? 0 : 1;
}

async function rewrap(cli: CliContext, opts: KeyringCliOptions & { format: "text" | "json" }): Promise<number> {
  const ring = await openKeyring(cli, opts);
  let results;
  try {
    results = await new KeyringEnrollments(ring).reseal();
  } finally {
    ring.close();
  }
  const kek = (k: { id: string; version: number } | undefined) => (k === undefined ? "" : `KEK "${k.id}" version ${k.version}`);
  if (opts.format === "json") {
    cli.io.stdout(JSON.stringify({ keyring: ring.dir, users: results }, null, 2) + "\n");
  } else {
    for (const r of results) {
      if (r.status === "resealed") cli.io.stdout(`${r.user}: ${kek(r.from)} -> ${kek(r.to)}\n`);
      else if (r.status === "current") cli.io.stdout(`${r.user}: already under ${kek(r.to)}\n`);
      else cli.io.stderr(`swarm-policy: ${r.user}: ${r.error}\n`);
    }
    const n = (status: string) => results.filter((r) => r.status === status).length;
    cli.io.stdout(`${n("resealed")} resealed, ${n("current")} already current, ${n("error")} failed\n`);
  }
  return results.some((r) => r.status === "error") ? 1 : 0;
}

export function register(program: Command, cli: CliContext): void {
  const mfa = program
    .command("mfa")
    .summary("TOTP multi-factor authentication: enroll users, verify codes, rewrap secrets")
    .description(
      "TOTP (RFC 6238) secrets sealed by the keyring, and code verification with replay protection,\n" +
        "lockout and security events (docs/mfa.md). The keyring defaults to $SWARM_POLICY_KEYRING.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  $ swarm-policy mfa enroll alice --keyring ring/\n  $ swarm-policy mfa verify alice 492039 --keyring ring/\n  $ swarm-policy mfa rewrap --keyring ring/\n",
    );

  addKeyringOptions(mfa.command("enroll"))
    .description("create a TOTP secret for USER, sealed in the keyring; print it once as an otpauth:// URI and a QR code")
    .argument("<user>", "the user name")
    .option("--force", "replace the secret of an enrolled user", false)
    .option("--issuer <name>", "the issuer an authenticator app shows", "swarm-policy")
    .addOption(formatOption())
    .addOption(eventsOption())
    .addHelpText("after", "\nExamples:\n  $ swarm-policy mfa enroll alice --keyring ring/\n  $ swarm-policy mfa enroll alice --keyring ring/ --force --format json\n")
    .action(cli.action((user: string, opts) => withMfaErrors(() => enroll(cli, user, opts))));

  addKeyringOptions(mfa.command("verify"))
    .description("check a TOTP code: exit 0 when valid, 1 when not (wrong, malformed, already used, locked out, not enrolled)")
    .argument("<user>", "the user name")
    .argument("<code>", "the code from the authenticator app, or - to read it from standard input")
    .addOption(formatOption())
    .addOption(eventsOption())
    .addHelpText(
      "after",
      "\nExamples:\n  $ swarm-policy mfa verify alice 492039 --keyring ring/\n" +
        "  $ read -s code && echo \"$code\" | swarm-policy mfa verify alice - --keyring ring/\n" +
        "  $ swarm-policy mfa verify alice 492039 --keyring ring/ --format json --events /var/log/swarm/mfa.jsonl\n",
    )
    .action(cli.action((user: string, code: string, opts) => withMfaErrors(() => verify(cli, user, code, opts))));

  addKeyringOptions(mfa.command("rewrap"))
    .summary("re-seal every enrolled TOTP secret under the current primary KEK (after `keys rotate`)")
    .description(
      "re-seal every enrolled TOTP secret under the keyring's current primary KEK (after `keys rotate`,\n" +
        "before `keys retire`); secrets already under it are left alone. Exit 1 when a secret cannot be\n" +
        "resealed (damaged, tampered, its KEK retired): it is reported and left unchanged.",
    )
    .addOption(formatOption())
    .addHelpText(
      "after",
      "\nExample:\n  $ swarm-policy keys rotate --keyring ring/ && swarm-policy mfa rewrap --keyring ring/ && swarm-policy keys retire --keyring ring/ 1\n",
    )
    .action(cli.action((opts) => withMfaErrors(() => rewrap(cli, opts))));
}
