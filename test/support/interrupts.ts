/** The signals a key verb must clean up after, with the exit code it then ends with (128 + n). */
export const INTERRUPTS = [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const;
