/**
 * `swarm-policy encrypt PATH... --keyring DIR --attrs JSON IN OUT`: encrypt
 * a file as the policies require for data with these attributes (cipher,
 * bound AAD fields, key age, TEE), as a stream (docs/envelope.md). A
 * requirement that cannot be met is a refusal (exit 1) before anything is
 * written; OUT appears only when complete (temp file + rename).
 */
import { Option, type Command } from "commander";
import { AtomicFile, Engine, hasErrors, MAX_CHUNK_SIZE, planEncryption, sealStream, type EncryptionPlan } from "../../index.js";
import { CliError, type CliContext } from "../context.js";
import { reportPolicyErrors } from "../engine.js";
import { readPolicySources } from "../sources.js";
import { addKeyringOptions, openKeyring, withCryptoErrors, type KeyringCliOptions } from "../keyring-options.js";
import { loadAttestation, openInput, readAttrs } from "../crypto-inputs.js";
import { checkOutputFile } from "../output-path.js";
import { ProgressBar } from "../progress-bar.js";
import { parseWholeNumberOption } from "../number-option.js";

interface EncryptOptions extends KeyringCliOptions {
  attrs: string;
  kek?: string;
  chunkSize?: string;
  attestation?: string;
  format: "text" | "json";
}

function summary(plan: EncryptionPlan, input: string, output: string, bytesIn: number, bytesOut: number) {
  return {
    input,
    output,
    cipher: plan.cipher,
    kek: { id: plan.kek.id, version: plan.kek.version },
    aad: plan.aadFields,
    tee: plan.teeRequired,
    max_key_age: plan.maxKeyAge,
    rules: plan.rules,
    bytes_in: bytesIn,
    bytes_out: bytesOut,
  };
}

async function encrypt(cli: CliContext, args: string[], opts: EncryptOptions): Promise<number> {
  if (args.length < 3) throw new CliError("encrypt needs PATH... IN OUT: policy files or directories, then the input and output files");
  const paths = args.slice(0, -2);
  const [inName, outName] = args.slice(-2) as [string, string];
  const chunkSize = opts.chunkSize === undefined ? undefined : parseWholeNumberOption("--chunk-size", opts.chunkSize, 1, MAX_CHUNK_SIZE);
  const attrs = await readAttrs(cli, opts.attrs);
  const sources = await readPolicySources(cli, paths);
  const engine = new Engine(sources, []);
  if (hasErrors(engine.diagnostics)) {
    reportPolicyErrors(cli, engine, sources);
    throw new CliError("the policies have errors: nothing was encrypted", 1);
  }
  const attestation = await loadAttestation(cli, opts.attestation);
  const ring = await openKeyring(cli, opts);
  // Every requirement is checked before the output file exists.
  const plan = await planEncryption(engine, attrs, ring, { ...(opts.kek ? { kekId: opts.kek } : {}), ...(attestation ? { attestation } : {}) });
  const input = await openInput(cli, inName);
  await checkOutputFile(cli, outName);
  const out = await AtomicFile.create(cli.resolve(outName));
  const progress = new ProgressBar(cli.io, "encrypt", input.size);
  try {
    const stream = sealStream(progress.track(input.chunks), {
      cipher: plan.cipher,
      kek: plan.kek,
      aadFields: plan.aadFields,
      attributes: attrs,
      teeRequired: plan.teeRequired,
      usage: ring.usage, // the keyring's persistent wrap counter
      ...(chunkSize === undefined ? {} : { chunkSize }),
    });
    for await (const chunk of stream) await out.write(chunk);
    await out.commit();
  } catch (err) {
    input.close();
    await out.abort();
    throw err;
  } finally {
    progress.finish();
  }
  const s = summary(plan, inName, outName, (input.size ?? 0) || 0, out.written);
  if (opts.format === "json") cli.io.stdout(JSON.stringify(s, null, 2) + "\n");
  else {
    const bound = plan.aadFields.length === 0 ? "no attributes bound" : `bound ${plan.aadFields.join(", ")}`;
    cli.io.stdout(`encrypted ${inName} -> ${outName}: ${plan.cipher}, KEK "${plan.kek.id}" version ${plan.kek.version}, ${bound}${plan.teeRequired ? ", TEE required to decrypt" : ""}\n`);
  }
  return 0;
}

export function register(program: Command, cli: CliContext): void {
  addKeyringOptions(
    program
      .command("encrypt")
      .summary("encrypt a file as the policies require for its attributes")
      .description(
        "Encrypt IN to OUT as the encryption policies require for data with the given attributes:\n" +
          "the cipher, the AAD fields bound to the ciphertext, the KEK's maximum age, a TEE.\n" +
          "A requirement that cannot be met (a missing AAD attribute, an over-age KEK, no attested TEE)\n" +
          "is refused with exit 1 and nothing is written. OUT appears only when complete.\n" +
          "IN may be - for standard input. A progress bar is drawn on stderr when it is a terminal.\n" +
          "The policy PATHs always come first (there is no default policy path), then IN and OUT.",
      )
      .argument("<args...>", "PATH... IN OUT: policy files or directories, then the input and output files"),
  )
    .requiredOption("--attrs <json>", "the data's attributes as a JSON object, or @FILE")
    .option("--kek <id>", "the KEK id whose primary wraps the data key (default: the keyring's default)")
    .option("--chunk-size <bytes>", "plaintext bytes per chunk (default 65536, at most 16 MiB)")
    .option("--attestation <module>", "an ES module exporting the TEE attestation provider (default: none, never attested)")
    .addOption(new Option("-f, --format <format>", "summary format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        `  $ swarm-policy encrypt policies/ --keyring ring/ --attrs '{"classification":"confidential","tenant_id":"acme"}' report.pdf report.pdf.spev\n` +
        "  $ swarm-policy encrypt policies/ --keyring ring/ --attrs @record.json --attestation ./snp-provider.mjs scan.dcm scan.dcm.spev\n",
    )
    .action(cli.action((args: string[], opts: EncryptOptions) => withCryptoErrors(() => encrypt(cli, args, opts))));
}
