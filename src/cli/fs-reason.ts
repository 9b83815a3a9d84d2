/**
 * Why a file named on the command line could not be read, in the words of
 * every other error line (`cannot read input x.json: is a directory`). Node's
 * own message ("EISDIR: illegal operation on a directory, read", "EACCES:
 * permission denied, open '/abs/x.json'") repeats the path as an absolute one
 * and leads with the errno name.
 */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "not a directory",
  ELOOP: "too many levels of symbolic links",
};

export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code !== undefined && Object.hasOwn(REASONS, code)) return REASONS[code]!;
  return err instanceof Error ? err.message : String(err);
}
