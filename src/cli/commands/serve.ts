/**
 * `swarm-policy serve PATH... [--port 8181] [--host 127.0.0.1] [--config
 * FILE] ...`: the decision service (docs/api.md, docs/operations.md).
 *
 * Flags override the config file. Runs until SIGTERM or SIGINT (then closes
 * gracefully and exits 0); SIGHUP reloads the policies. Exit 2 before
 * listening for bad usage, an unreadable path, a bad config file, TLS files
 * that cannot be used, a non-loopback host without client tokens, or an
 * address that cannot be bound. Policy errors do not stop it: it starts
 * not ready (GET /readyz is 503) and serves as soon as a good set loads.
 * Logs are JSON lines on stderr; stdout is left to a decision log "-".
 */
import { Option, type Command } from "commander";
import { defaultServerConfig, displayPath, loadServerConfig, ServerConfigError, startServer, type ServerConfig } from "../../index.js";
import { CliError, type CliContext } from "../context.js";
import { readPolicySources } from "../sources.js";

interface ServeOptions {
  port?: string;
  host?: string;
  config?: string;
  decisionLog?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  watch: boolean;
  logLevel?: ServerConfig["log"]["level"];
}

function parsePort(raw: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new CliError(`--port must be a number from 0 to 65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
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
  if (opts.port !== undefined) config.port = parsePort(opts.port);
  if (opts.host !== undefined) config.host = opts.host;
  if (opts.decisionLog !== undefined) config.decisionLog.path = opts.decisionLog === "-" ? "-" : cli.resolve(opts.decisionLog);
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
  return config;
}

export function register(program: Command, cli: CliContext): void {
  program
    .command("serve")
    .summary("the decision service: HTTP API with hot reload, decision log, auth and TLS")
    .description(
      "Serve decisions over HTTP (docs/api.md): POST /v1/evaluate, /v1/evaluate/batch, /v1/events,\n" +
        "/v1/mfa/verify; GET /v1/alerts, /v1/policies, /healthz, /readyz, /metrics.\n" +
        "The policy paths are watched; a changed set is swapped in only when it has no errors\n" +
        "(SIGHUP reloads too). Logs are JSON lines on stderr. Stops gracefully on SIGTERM or SIGINT.\n" +
        "Listening on a non-loopback address requires client tokens in the config file.\n" +
        "Exits 2 before listening for bad usage, an unreadable path, a bad config, or an unusable address.",
    )
    .argument("<paths...>", "policy files, or directories searched recursively for *.policy")
    .option("-p, --port <port>", "TCP port; 0 picks a free one (default: 8181, or the config file's)")
    .option("-H, --host <host>", "address to listen on (default: 127.0.0.1, or the config file's)")
    .option("-c, --config <file>", "config file, YAML or JSON: tokens, TLS, limits, decision log (docs/operations.md)")
    .option("--decision-log <file>", "append every decision as a JSON line to this file, or - for stdout")
    .option("--tls-cert <file>", "serve HTTPS with this PEM certificate (chain)")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option("--tls-client-ca <file>", "require client certificates signed by this PEM CA (mutual TLS)")
    .option("--no-watch", "do not watch the policy paths (reload on SIGHUP or POST /v1/policies/reload only)")
    .addOption(new Option("--log-level <level>", "log level").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]))
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
        const config = await resolveConfig(cli, opts);
        await readPolicySources(cli, paths);
        let server;
        try {
          server = await startServer({ paths: paths.map((p) => cli.resolve(p)), config, cwd: cli.io.cwd });
        } catch (err) {
          if (err instanceof ServerConfigError) throw new CliError(err.message);
          throw err;
        }
        const running = server;
        await new Promise<void>((resolve) => {
          const onHup = () => void running.reload("signal");
          const onStop = () => {
            process.off("SIGHUP", onHup);
            process.off("SIGTERM", onStop);
            process.off("SIGINT", onStop);
            void running.close().then(resolve, resolve);
          };
          process.on("SIGHUP", onHup);
          process.on("SIGTERM", onStop);
          process.on("SIGINT", onStop);
        });
        return 0;
      }),
    );
}
