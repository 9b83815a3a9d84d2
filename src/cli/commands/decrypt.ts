/**
 * `swarm-policy decrypt --keyring DIR IN OUT`: decrypt a stream (or a
 * version-1 envelope). Plaintext goes to a temporary file (mode 0600) that
 * is renamed to OUT only after the final chunk is authenticated; any failure
 * (tampering, truncation, a retired KEK, a TEE requirement without
 * attestation) leaves no output behind.
 */
import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { AtomicFile, EnvelopeError, openEnvelope, openStream, type StreamHeader } from "../../index.js";
import { CliError, type CliContext } from "../context.js";
import { addKeyringOptions, openKeyring, withCryptoErrors, type KeyringCliOptions } from "../keyring-options.js";
import { loadAttestation, openInput, readAttrs } from "../crypto-inputs.js";
import { checkOutputFile } from "../output-path.js";
import { ProgressBar } from "../progress-bar.js";

interface DecryptOptions extends KeyringCliOptions {
  attrs?: string;
  attestation?: string;
  format: "text" | "json";
}

/** Version-1 envelopes are single objects: bounded, read whole. */
const MAX_V1_BYTES = 64 * 1024 * 1024;

function isVersion1(err: unknown): boolean {
  return err instanceof EnvelopeError && err.code === "unsupported-version" && /version-1/.test(err.message);
}

async function decrypt(cli: CliContext, inName: string, outName: string, opts: DecryptOptions): Promise<number> {
  const attrs = opts.attrs === undefined ? undefined : await readAttrs(cli, opts.attrs);
  const attestation = await loadAttestation(cli, opts.attestation);
  const ring = await openKeyring(cli, opts);
  const input = await openInput(cli, inName);
  await checkOutputFile(cli, outName);
  // Plaintext is never readable by others, not even while being written.
  const out = await AtomicFile.create(cli.resolve(outName), { mode: 0o600 });
  const progress = new ProgressBar(cli.io, "decrypt", input.size);
  let header: StreamHeader | undefined;
  let format = 2;
  try {
    try {
      const plain = openStream(progress.track(input.chunks), {
        resolveKek: ring.resolveKek,
        ...(attrs ? { attributes: attrs, onlyBound: true } : {}),
        ...(attestation ? { attestation } : {}),
        onHeader: (h) => (header = h),
      });
      for await (const chunk of plain) await out.write(chunk);
    } catch (err) {
      input.close();
      if (!isVersion1(err)) throw err;
      if (inName === "-") throw new CliError("a version-1 envelope cannot be read from standard input: pass it as a file");
      if ((input.size ?? 0) > MAX_V1_BYTES) throw new CliError(`${inName}: a version-1 envelope larger than 64 MiB is not supported`);
      format = 1;
      const envelope = new Uint8Array(await readFile(cli.resolve(inName)));
      const plain = openEnvelope(envelope, { resolveKek: ring.resolveKek, attributes: attrs ?? {}, onlyBound: true });
      await out.write(plain);
      plain.fill(0);
    }
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  } finally {
    progress.finish();
  }
  const h = header as StreamHeader | undefined;
  if (opts.format === "json") {
    const doc = {
      input: inName,
      output: outName,
      format,
      bytes: out.written,
      ...(h ? { cipher: h.cipher, kek: { id: h.kekId, version: h.kekVersion }, aad: Object.fromEntries(h.aad), tee: h.teeRequired } : {}),
    };
    cli.io.stdout(JSON.stringify(doc, null, 2) + "\n");
  } else {
    cli.io.stdout(`decrypted ${inName} -> ${outName}: ${out.written} bytes${h ? `, KEK "${h.kekId}" version ${h.kekVersion}` : ""}\n`);
  }
  return 0;
}

export function register(program: Command, cli: CliContext): void {
  addKeyringOptions(
    program
      .command("decrypt")
      .summary("decrypt a file; the output appears only when complete and authentic")
      .description(
        "Decrypt IN (a stream written by `encrypt`, or a version-1 envelope) to OUT (mode 0600).\n" +
          "OUT appears only after the whole input is authenticated; on any failure nothing is left behind\n" +
          "and the exit code is 1 (not authentic, truncated, retired KEK, TEE not attested) or 2.\n" +
          "Bound attributes are stored in a stream; --attrs checks them against the values you expect\n" +
          "(and supplies them for a version-1 envelope). An --attrs field the file does not bind is refused.",
      )
      .argument("<in>", "the encrypted file, or - for standard input")
      .argument("<out>", "the plaintext file to create"),
  )
    .option("--attrs <json>", "expected attributes as a JSON object, or @FILE")
    .option("--attestation <module>", "an ES module exporting the TEE attestation provider (for data that requires a TEE)")
    .addOption(new Option("-f, --format <format>", "summary format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy decrypt --keyring ring/ report.pdf.spev report.pdf\n" +
        `  $ swarm-policy decrypt --keyring ring/ --attrs '{"tenant_id":"acme"}' report.pdf.spev report.pdf\n`,
    )
    .action(cli.action((inName: string, outName: string, opts: DecryptOptions) => withCryptoErrors(() => decrypt(cli, inName, outName, opts))));
}
