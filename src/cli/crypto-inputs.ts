/**
 * Inputs of the data verbs (encrypt, decrypt, rewrap): `--attrs` JSON (text,
 * or @FILE), an attestation provider module (`--attestation MODULE`), and
 * input files as byte streams with their sizes for the progress bar.
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import type { AttestationProvider } from "../index.js";
import { CliError, type CliContext } from "./context.js";
import { fsReason } from "./fs-reason.js";
import { notJsonReason } from "../diagnostics/json-syntax.js";

/** `--attrs '{"classification":"phi",...}'` or `--attrs @attrs.json`: a JSON object. */
export async function readAttrs(cli: CliContext, value: string): Promise<Record<string, unknown>> {
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = await readFile(cli.resolve(value.slice(1)), "utf8");
    } catch (err) {
      throw new CliError(`cannot read --attrs file ${value.slice(1)}: ${fsReason(err)}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`--attrs is not valid JSON: ${notJsonReason(text, err)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new CliError("--attrs must be a JSON object (the data's attributes)");
  return parsed as Record<string, unknown>;
}

/** Loads a module whose default export (or `provider` export) is an AttestationProvider. */
export async function loadAttestation(cli: CliContext, module: string | undefined): Promise<AttestationProvider | undefined> {
  if (module === undefined) return undefined;
  let mod: { default?: unknown; provider?: unknown };
  try {
    mod = (await import(pathToFileURL(cli.resolve(module)).href)) as typeof mod;
  } catch (err) {
    throw new CliError(`cannot load attestation provider ${module}: ${(err as Error).message}`);
  }
  const provider = (mod.default ?? mod.provider) as Partial<AttestationProvider> | undefined;
  if (provider === null || typeof provider !== "object" || typeof provider.attest !== "function" || typeof provider.name !== "string") {
    throw new CliError(`${module} does not export an attestation provider ({ name, attest() }) as default or "provider"`);
  }
  return provider as AttestationProvider;
}

export interface InputFile {
  /** Bytes, as they are read. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Size in bytes when known (a regular file). */
  readonly size: number | undefined;
  /** Releases the file (after a failure part-way through). */
  close(): void;
}

/** A file, or standard input for "-". A missing or unreadable file is a CliError (exit 2) before anything is written. */
export async function openInput(cli: CliContext, where: string): Promise<InputFile> {
  if (where === "-") return { chunks: asBytes(cli.io.stdinStream()), size: undefined, close: () => undefined };
  const file = cli.resolve(where);
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new CliError(`${where} is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read ${where}: ${fsReason(err)}`);
  }
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  return { chunks: stream, size, close: () => void stream.destroy() };
}

/** Standard input may deliver strings (an encoding was set, or a test's stream): bytes either way. */
async function* asBytes(stream: NodeJS.ReadableStream): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream as AsyncIterable<Uint8Array | string>) yield typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
}
