/**
 * `request.log` made on first use. fastify gives every request a child
 * logger bound to its id; pino builds a child eagerly (an object and its
 * bindings serialized to JSON text), yet an answered evaluation never logs
 * at the default level. This stands in for the child and creates it only
 * when a line is actually written at an enabled level, so the lines carry
 * the request id exactly as before and the hot path skips the work.
 */
import type { FastifyBaseLogger } from "fastify";
import type { Bindings, ChildLoggerOptions, Level, Logger } from "pino";

type Write = (...args: unknown[]) => void;

class LazyRequestLogger {
  private made: Logger | null = null;
  constructor(
    private readonly root: Logger,
    private readonly bindings: Bindings,
  ) {}

  /** The real child, made now if not yet. */
  private logger(): Logger {
    return (this.made ??= this.root.child(this.bindings));
  }

  private write(level: Level, args: unknown[]): void {
    // The child's own level once it exists (someone may have set it), the root's until then.
    if (!(this.made ?? this.root).isLevelEnabled(level)) return;
    (this.logger()[level] as Write)(...args);
  }

  get level(): string {
    return (this.made ?? this.root).level;
  }
  set level(level: string) {
    this.logger().level = level;
  }
  fatal(...args: unknown[]): void {
    this.write("fatal", args);
  }
  error(...args: unknown[]): void {
    this.write("error", args);
  }
  warn(...args: unknown[]): void {
    this.write("warn", args);
  }
  info(...args: unknown[]): void {
    this.write("info", args);
  }
  debug(...args: unknown[]): void {
    this.write("debug", args);
  }
  trace(...args: unknown[]): void {
    this.write("trace", args);
  }
  silent(): void {}
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }
}

/**
 * fastify's `childLoggerFactory`: a lazy child for the usual request; a
 * real child at once when the route asks for its own level or serializers.
 */
export function lazyChildLogger(root: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined) return root.child(bindings, options);
  return new LazyRequestLogger(root as Logger, bindings) as unknown as FastifyBaseLogger;
}
