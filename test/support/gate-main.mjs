// Preload (node --import) for tests of what happens while the CLI's modules load: bin.ts's
// import of ./main.js waits until the file $GATE_DIR/go exists, after writing $GATE_DIR/loading.
import { register } from "node:module";

register(new URL("./gate-main-hooks.mjs", import.meta.url));
