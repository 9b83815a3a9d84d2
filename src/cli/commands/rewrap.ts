/**
 * `swarm-policy rewrap --keyring DIR FILE...`: re-wrap each stream's data key
 * under the current primary KEK (after `keys rotate`), replacing only the
 * header's wrap section; payload bytes are copied unchanged and never
 * decrypted. Each file is replaced atomically (it keeps its mode); a file
 * that fails is left as it was, the others are still processed.
 */
import { createReadStream } from "node:fs";
import { Option, type Command } from "commander";
import { AtomicFile, EnvelopeError, inspectStream, rewrapStream, type Keyring } from "../../index.js";
import { CliError, type CliContext } from "../context.js";
import { fsReason } from "../fs-reason.js";
import { addKeyringOptions, openKeyring, toCliError, withCryptoErrors, type KeyringCliOptions } from "../keyring-options.js";

interface RewrapOptions extends KeyringCliOptions {
  kek?: string;
  format: "text" | "json";
}

interface FileResult {
  file: string;
  status: "rewrapped" | "current" | "error";
  from?: { id: string; version: number };
  to?: { id: string; version: number };
  error?: string;
}

async function rewrapFile(cli: CliContext, ring: Keyring, name: string, kekId: string | undefined): Promise<FileResult> {
  const file = cli.resolve(name);
  const header = await inspectStream(createReadStream(file)).catch((err: unknown) => {
    // Say why a version-1 envelope cannot be re-wrapped, as rewrapStream does.
    if (err instanceof EnvelopeError && err.code === "unsupported-version" && /version-1/.test(err.message)) {
      throw new EnvelopeError("cannot-rewrap", "a version-1 envelope binds its wrapped key into the payload's AAD and cannot be re-wrapped; decrypt and encrypt it again");
    }
    throw err;
  });
  const from = { id: header.kekId, version: header.kekVersion };
  // The file's own KEK version first: one this keyring lacks or retired is a refusal for this
  // file (exit 1, as decrypt says), not "no primary for that id" (an unusable keyring, exit 2).
  ring.key(header.kekId, header.kekVersion);
  const kek = ring.primary(kekId ?? header.kekId);
  const to = { id: kek.id, version: kek.version };
  if (from.id === to.id && from.version === to.version) return { file: name, status: "current", from, to };
  const out = await AtomicFile.create(file);
  try {
    for await (const chunk of rewrapStream(createReadStream(file, { highWaterMark: 1024 * 1024 }), { resolveKek: ring.resolveKek, kek, usage: ring.usage })) {
      await out.write(chunk);
    }
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
  return { file: name, status: "rewrapped", from, to };
}

async function rewrap(cli: CliContext, files: string[], opts: RewrapOptions): Promise<number> {
  const ring = await openKeyring(cli, opts);
  // A --kek this keyring has no primary for is bad usage, said once rather than per file.
  if (opts.kek !== undefined) ring.primary(opts.kek);
  const results: FileResult[] = [];
  let code = 0;
  for (const name of files) {
    try {
      results.push(await rewrapFile(cli, ring, name, opts.kek));
    } catch (err) {
      const cliErr = toCliError(err);
      const message =
        cliErr instanceof CliError ? cliErr.message : fsReason(err);
      code = Math.max(code, cliErr instanceof CliError ? cliErr.exitCode : 2);
      results.push({ file: name, status: "error", error: message });
      if (opts.format === "text") cli.io.stderr(`swarm-policy: ${name}: ${message}\n`);
    }
  }
  if (opts.format === "json") {
    cli.io.stdout(JSON.stringify({ files: results }, null, 2) + "\n");
  } else {
    for (const r of results) {
      if (r.status === "rewrapped") cli.io.stdout(`${r.file}: KEK "${r.from!.id}" version ${r.from!.version} -> "${r.to!.id}" version ${r.to!.version}\n`);
      else if (r.status === "current") cli.io.stdout(`${r.file}: already under KEK "${r.to!.id}" version ${r.to!.version}\n`);
    }
  }
  return code;
}

export function register(program: Command, cli: CliContext): void {
  addKeyringOptions(
    program
      .command("rewrap")
      .summary("re-wrap encrypted files' data keys under the current primary KEK")
      .description(
        "Re-wrap the data key of each encrypted FILE (a stream written by `encrypt`) under the primary\n" +
          "version of its KEK (or of --kek), without decrypting or changing the payload. Run it after\n" +
          "`keys rotate` and before `keys retire`. Each file is replaced atomically; files that fail are\n" +
          "reported and left unchanged (exit 1 when one is not authentic or its KEK is retired, 2 when unreadable).",
      )
      .argument("<files...>", "encrypted files"),
  )
    .option("--kek <id>", "re-wrap under this KEK id's primary instead of each file's own KEK id")
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText("after", "\nExample:\n  $ swarm-policy keys rotate --keyring ring/ && swarm-policy rewrap --keyring ring/ data/*.spev\n")
    .action(cli.action((files: string[], opts: RewrapOptions) => withCryptoErrors(() => rewrap(cli, files, opts))));
}
