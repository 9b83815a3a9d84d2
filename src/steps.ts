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

/**
 * Runs the steps, awaiting `pause()` between each two. When a step or
 * `pause()` throws, the generator is closed (its `finally` blocks run) and
 * the promise rejects with that error.
 */
export async function runStepsAsync<T>(steps: Steps<T>, pause: () => Promise<void>): Promise<T> {
  let finished = false;
  try {
    let r = steps.next();
    while (r.done !== true) {
      await pause();
      r = steps.next();
    }
    finished = true;
    return r.value;
  } finally {
    // Abandoned mid-way (a step threw: already closed; pause threw: suspended): closed, not left to dangle.
    if (!finished) {
      try {
        steps.return(undefined as T);
      } catch {
        // The error that stopped the steps is the one to report.
      }
    }
  }
}
