/**
 * Entry of the supervisor process: `kne-supervisor TOPOLOGY` with KNE_STATE_DIR set.
 *
 * Starts the compile cache before anything else loads (a topology's create waits for its
 * supervisor to start: every start is on that path), then runs supervisor-run.ts.
 */
import module from "node:module";

// Typed loosely: the pinned @types/node predates enableCompileCache (Node >= 22.1).
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import("./supervisor-run.ts");
