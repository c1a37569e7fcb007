#!/usr/bin/env node
// Bundles one app for running without tsx: `node ../../tools/scripts/build-app.mjs <entry> <out>`,
// run from the app's folder (npm/nx scripts do), e.g. src/main.ts dist/main.mjs.
//
// Workspace libraries (@kne/*) are TypeScript sources with no build of their own, so they
// are bundled in. Every other bare import (npm packages, node: builtins) stays external
// and is resolved from node_modules at run time: their code is not ours to re-bundle, and
// some (pino's worker threads, protobuf-es's generated registries) rely on their own files.
import { build } from "esbuild";
import { relative, resolve } from "node:path";

const [entry, out] = process.argv.slice(2);
if (entry === undefined || out === undefined) {
  console.error("usage: build-app.mjs <entry.ts> <out.mjs>   (paths relative to the app folder)");
  process.exit(2);
}

/** Marks every bare import external except the workspace's own @kne/* packages. */
const externalNonWorkspace = {
  name: "external-non-workspace",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("@kne/")) return undefined; // let esbuild resolve the sources
      return { path: args.path, external: true };
    });
  },
};

const result = await build({
  entryPoints: [resolve(entry)],
  outfile: resolve(out),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  metafile: true,
  plugins: [externalNonWorkspace],
  banner: {
    // ESM has no `require`; bundled CommonJS-style code that calls it (createRequire is
    // the documented bridge) would otherwise fail at run time. Aliased so that it cannot
    // clash with an import of createRequire in the bundled code.
    js: 'import { createRequire as __kneCreateRequire } from "node:module";\nconst require = __kneCreateRequire(import.meta.url);',
  },
});

const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`built ${relative(process.cwd(), resolve(out))} from ${inputs} source files (${(bytes / 1024).toFixed(0)} KiB with source map)`);
