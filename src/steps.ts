/**
 * Work in steps: a generator that yields between the parts of a long,
 * synchronous job (parsing file by file, checker passes, compiling file by
 * file), so the same code runs straight through for a library call
 * (`runSteps`) or with the event loop turning between steps for the
 * service's hot reload (`runStepsAsync`), which must keep answering
 * requests while a large policy set loads. A step keeps its state in the
 * generator; nothing else may touch that state between steps.
 */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step at once. */
export function runSteps<T>(steps: Steps<T>): T {
  let r = steps.next();
  while (r.done !== true) r = steps.next();
  return r.value;
}

/** Runs the steps, awaiting `pause()` between each two. */
export async function runStepsAsync<T>(steps: Steps<T>, pause: () => Promise<void>): Promise<T> {
  let r = steps.next();
  while (r.done !== true) {
    await pause();
    r = steps.next();
  }
  return r.value;
}
