// Starts a built app: copied by build-app.mjs into every app's dist/ as start.mjs, which the
// app's bin/ imports once it has found dist/. One copy of what every executable does first.
//
// Plain JavaScript that even an old Node parses: the runtime check must be able to speak
// before anything that needs a newer one loads (hence the dynamic import of the app).
import module from "node:module";

const neededMajor = 24; // the root package.json's engines

/**
 * Checks the runtime, turns on the compile cache (and source maps when asked), then runs
 * `main` (dist/main.mjs). `name` is the executable's name in messages.
 */
export async function startBuiltApp({ name, main, sourceMaps }) {
  const found = process.versions.node;
  if (Number(found.split(".")[0]) < neededMajor) {
    process.stderr.write(`${name}: needs Node.js ${neededMajor} or newer, found ${found} (${process.execPath})\n`);
    process.exit(1);
  }
  // Compiled code cached on disk (the OS temp dir, or NODE_COMPILE_CACHE): later starts skip parsing.
  module.enableCompileCache();
  // Stack traces name the TypeScript sources (dist/*.map).
  if (sourceMaps) process.setSourceMapsEnabled(true);
  await import(main.href);
}
