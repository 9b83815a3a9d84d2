/**
 * `swarm-policy serve PATH... [--port 8181] [--host 127.0.0.1] [--config
 * FILE] ...`: the decision service (docs/api.md, docs/operations.md).
 *
 * Flags override the config file. Runs until SIGTERM or SIGINT (then closes
 * gracefully and exits 0); SIGHUP reloads the policies. Exit 2 before
 * listening for bad usage, an unreadable path, a bad config file, TLS files
 * that cannot be used, a decision log that cannot be opened, a non-loopback host without client tokens, or an
 * address that cannot be bound. Policy errors do not stop it: it starts
 * not ready (GET /readyz is 503) and serves as soon as a good set loads.
 * Logs are JSON lines on stderr; stdout is left to a decision log "-".
 */
import { Option, type Command } from "commander";
import path from "node:path";
import {
  defaultServerConfig,
  displayPath,
  FileMfaStateStore,
  Keyring,
  KeyringEnrollments,
  KeyringError,
  loadServerConfig,
  MFA_DIR,
  MfaStateError,
  ServerConfigError,
  startServer,
  type ServerConfig,
  type TotpSecretSource,
} from "../../index.js";
import { takeEarlyHangup } from "../early-hangup.js";
import { CliError, type CliContext } from "../context.js";
import { addKeyringOptions, KEYRING_ENV, unlockOptions, type KeyringCliOptions } from "../keyring-options.js";
import { readPolicySources } from "../sources.js";
import { parseWholeNumberOption } from "../number-option.js";

interface ServeOptions extends KeyringCliOptions {
  port?: string;
  host?: string;
  config?: string;
  decisionLog?: string;
  riskState?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  watch: boolean;
  logLevel?: ServerConfig["log"]["level"];
}


/** The config file (or the defaults) with the flags applied over it. */
async function resolveConfig(cli: CliContext, opts: ServeOptions): Promise<ServerConfig> {
  let config: ServerConfig;
  try {
    config = opts.config !== undefined ? await loadServerConfig(cli.resolve(opts.config), displayPath(cli.resolve(opts.config), { cwd: cli.io.cwd })) : defaultServerConfig();
  } catch (err) {
    if (err instanceof ServerConfigError) throw new CliError(err.message);
    throw err;
  }
  if (opts.port !== undefined) config.port = parseWholeNumberOption("--port", opts.port, 0, 65535);
  if (opts.host !== undefined) config.host = opts.host;
  if (opts.decisionLog !== undefined) config.decisionLog.path = opts.decisionLog === "-" ? "-" : cli.resolve(opts.decisionLog);
  if (opts.riskState !== undefined) config.risk.stateFile = cli.resolve(opts.riskState);
  if (opts.tlsCert !== undefined || opts.tlsKey !== undefined) {
    if (opts.tlsCert === undefined || opts.tlsKey === undefined) throw new CliError("--tls-cert and --tls-key go together");
    config.tls = { cert: cli.resolve(opts.tlsCert), key: cli.resolve(opts.tlsKey) };
  }
  if (opts.tlsClientCa !== undefined) {
    if (config.tls === null) throw new CliError("--tls-client-ca needs TLS (--tls-cert and --tls-key, or tls in the config file)");
    config.tls.clientCa = cli.resolve(opts.tlsClientCa);
  }
  if (!opts.watch) config.reload.watch = false;
  if (opts.logLevel !== undefined) config.log.level = opts.logLevel;
  // The flag overrides the file; $SWARM_POLICY_KEYRING only fills in when neither names one.
  const envRing = cli.io.env[KEYRING_ENV];
  if (opts.keyring !== undefined) config.mfa.keyring = cli.resolve(opts.keyring);
  else if (config.mfa.keyring === null && envRing !== undefined && envRing !== "") config.mfa.keyring = cli.resolve(envRing);
  return config;
}

/**
 * The keyring's MFA enrolments, when a keyring is configured; unlocked from the environment or
 * --passphrase-file. Used codes and lockouts are the keyring's state file, as for `mfa verify`:
 * in memory, a restart forgot them (a code accepted twice, the lock undone) and the CLI did not
 * see the server's. A state file that cannot be used refuses to start.
 */
async function openMfa(
  cli: CliContext,
  opts: ServeOptions,
  config: ServerConfig,
): Promise<{ secrets: TotpSecretSource; state: FileMfaStateStore; close: () => void } | null> {
  if (config.mfa.keyring === null) return null;
  let ring: Keyring;
  try {
    ring = await Keyring.open(config.mfa.keyring, await unlockOptions(cli, opts));
  } catch (err) {
    if (err instanceof KeyringError) throw new CliError(`mfa keyring: ${err.message}`);
    throw err;
  }
  const state = new FileMfaStateStore(path.join(ring.dir, MFA_DIR));
  try {
    await state.size();
  } catch (err) {
    ring.close();
    if (err instanceof MfaStateError) throw new CliError(`mfa keyring: ${err.message}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === "string") throw new CliError(`mfa keyring: cannot use the MFA state in ${displayPath(state.dir, { cwd: cli.io.cwd })}: ${code}`);
    throw err;
  }
  return { secrets: new KeyringEnrollments(ring), state, close: () => ring.close() };
}

export function register(program: Command, cli: CliContext): void {
  const command = program
    .command("serve")
    .summary("the decision service: HTTP API with hot reload, decision log, auth and TLS")
    .description(
      "Serve decisions over HTTP (docs/api.md): POST /v1/evaluate, /v1/evaluate/batch, /v1/events,\n" +
        "/v1/mfa/verify; GET /v1/alerts, /v1/policies, /healthz, /readyz, /metrics.\n" +
        "The policy paths are watched; a changed set is swapped in only when it has no errors\n" +
        "(SIGHUP reloads too). Logs are JSON lines on stderr. Stops gracefully on SIGTERM or SIGINT.\n" +
        "Listening on a non-loopback address requires client tokens in the config file.\n" +
        "With a keyring (--keyring, $SWARM_POLICY_KEYRING, or mfa.keyring in the config), POST /v1/mfa/verify\n" +
        "checks codes against the users enrolled with `swarm-policy mfa enroll`.\n" +
        "Exits 2 before listening for bad usage, an unreadable path, a bad config, or an unusable address.",
    )
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .option("-p, --port <port>", "TCP port; 0 picks a free one (default: 8181, or the config file's)")
    .option("-H, --host <host>", "address to listen on (default: 127.0.0.1, or the config file's)")
    .option("-c, --config <file>", "config file, YAML or JSON: tokens, TLS, limits, decision log (docs/operations.md)")
    .option("--decision-log <file>", "append every decision as a JSON line to this file, or - for stdout")
    .option("--risk-state <file>", "keep quarantines and risk raises in this file, so a restart does not lift them (read at start, saved within a second of a change)")
    .option("--tls-cert <file>", "serve HTTPS with this PEM certificate (chain)")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option("--tls-client-ca <file>", "require client certificates signed by this PEM CA (mutual TLS)")
    .option("--no-watch", "do not watch the policy paths (reload on SIGHUP or POST /v1/policies/reload only)")
    .addOption(new Option("--log-level <level>", "log level").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]));
  addKeyringOptions(command)
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  $ swarm-policy serve policies/\n" +
        "  $ swarm-policy serve policies/ --port 9000 --decision-log /var/log/swarm-policy/decisions.jsonl\n" +
        "  $ swarm-policy serve policies/ --config /etc/swarm-policy/serve.yaml --host 0.0.0.0\n" +
        '  $ curl -s localhost:8181/v1/evaluate -H "content-type: application/json" -d \'{"principal":{"id":"lee","roles":["researcher"],\n' +
        '      "department":"research"},"action":"dataset.read","resource":{"id":"ds-1","type":"dataset","env":"prod",\n' +
        '      "classification":"internal","department":"research"}}\'\n',
    )
    .action(
      cli.action(async (paths: string[], opts: ServeOptions) => {
        // A SIGHUP while starting (the first load and the listen take seconds on a large set) would
        // end the process with the default action: it is noted, and the reload done once listening.
        let hupWhileStarting = false;
        const onEarlyHup = () => void (hupWhileStarting = true);
        process.on("SIGHUP", onEarlyHup);
        // Held by bin.ts while the CLI's modules loaded.
        if (takeEarlyHangup()) hupWhileStarting = true;
        let server;
        let mfa: Awaited<ReturnType<typeof openMfa>> | undefined;
        try {
          const config = await resolveConfig(cli, opts);
          await readPolicySources(cli, paths);
          mfa = await openMfa(cli, opts, config);
          server = await startServer({ paths: paths.map((p) => cli.resolve(p)), config, cwd: cli.io.cwd, mfaSecrets: mfa?.secrets ?? null, mfaState: mfa?.state ?? null });
        } catch (err) {
          mfa?.close();
          if (err instanceof ServerConfigError) throw new CliError(err.message);
          throw err;
        } finally {
          process.off("SIGHUP", onEarlyHup);
        }
        const running = server;
        const openedMfa = mfa;
        await new Promise<void>((resolve) => {
          const onHup = () => void running.reload("signal");
          const onStop = () => {
            process.off("SIGHUP", onHup);
            process.off("SIGTERM", onStop);
            process.off("SIGINT", onStop);
            void running
              .close()
              .finally(() => openedMfa?.close())
              .then(resolve, resolve);
          };
          process.on("SIGHUP", onHup);
          process.on("SIGTERM", onStop);
          process.on("SIGINT", onStop);
          if (hupWhileStarting) onHup();
        });
        return 0;
      }),
    );
}
