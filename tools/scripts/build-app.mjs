#!/usr/bin/env node
// Builds one app for running without tsx: `node ../../tools/scripts/build-app.mjs [--supervisor]
// [--asset PATH]...`, run from the app's folder (its `build` script does). Writes into the app's dist/:
//   main.mjs (+ chunks-*.mjs)  the app, from src/main.ts, with everything it imports bundled in;
//                              what a command loads with import() is split into chunks that
//                              load only when that command runs
//   kne-supervisor.mjs         with --supervisor: the per-topology supervisor process the
//                              local backend starts (apps that embed the manager)
//   *.map                      source maps: stack traces name .ts lines (the bin enables them)
//   --asset PATH               a file (path from the workspace root) copied as it is, by its
//                              name: programs the app installs elsewhere, e.g. the agent's CNI
//                              plugin, which must run alone, outside the bundle
//   start.mjs                  tools/scripts/start-built-app.mjs: the runtime check, the compile
//                              cache and source maps, then main.mjs (what bin/ imports)
//   runtime-deps.json          {"dependencies": {"<pkg>": "<exact version>"}}: the npm
//                              packages the bundle still loads from node_modules at run time,
//                              for whoever installs the app (container images install only these)
import { build } from "esbuild";
import { createRequire, isBuiltin } from "node:module";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * npm packages left out of the bundle, and why. Everything else (Connect, protobuf-es, pino,
 * yaml, the Kubernetes client, OpenTelemetry) is bundled: one file read instead of hundreds
 * of module resolutions at every start.
 */
const keptExternal = {
  // A native addon: its .node binary is picked per platform from its own folder at run time.
  koffi: "native addon (.node file chosen at run time)",
};

const workspaceRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const args = process.argv.slice(2);
const usage = "usage: build-app.mjs [--supervisor] [--asset PATH]...   (run from the app's folder)";
const assets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--supervisor") continue;
  if (args[i] === "--asset" && args[i + 1] !== undefined) {
    const source = resolve(workspaceRoot, args[++i]);
    if (!existsSync(source)) {
      console.error(`build-app.mjs: --asset ${args[i]}: no such file in the workspace`);
      process.exit(2);
    }
    assets.push(source);
    continue;
  }
  console.error(`build-app.mjs: unknown argument ${args[i]}\n${usage}`);
  process.exit(2);
}
const appDir = process.cwd();
const outdir = join(appDir, "dist");
const projectVersion = JSON.parse(readFileSync(join(workspaceRoot, "package.json"), "utf8")).version;

const entryPoints = [{ in: join(appDir, "src", "main.ts"), out: "main" }];
if (args.includes("--supervisor")) {
  entryPoints.push({ in: join(workspaceRoot, "libs", "manager", "src", "local", "supervisor-main.ts"), out: "kne-supervisor" });
}

/** Records which kept-external packages the bundle imports (their bare names). */
const usedExternals = new Set();
const externals = {
  name: "kept-external",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => {
      const name = packageName(a.path);
      if (name === undefined || !(name in keptExternal)) return undefined;
      usedExternals.add(name);
      return { path: a.path, external: true };
    });
  },
};

/**
 * Node's built-in modules through `require` instead of `import`. An ESM import of a builtin
 * builds a namespace of all its exports, reading every one; node:http's include lazy getters
 * that load the bundled undici (fetch, WebSocket), ~40 ms of every start that imports
 * node:http (measured with --cpu-prof). Wrapped as CommonJS, a builtin's exports are read
 * where the code uses them.
 */
const builtinsAsRequire = {
  name: "builtins-as-require",
  setup(b) {
    b.onResolve({ filter: /^node:|^[a-z_]+(\/[a-z_]+)?$/ }, (a) => {
      const bare = a.path.replace(/^node:/, "");
      if (!isBuiltin(bare) || a.namespace === "builtin-as-require") return undefined;
      // `await import("http")` destructures named exports, which a CommonJS wrapper gives only
      // as `default`: a dynamic import stays a real one (it is paid for only when it runs).
      if (a.kind === "dynamic-import") return { path: `node:${bare}`, external: true };
      return { path: bare, namespace: "builtin-as-require" };
    });
    b.onLoad({ filter: /.*/, namespace: "builtin-as-require" }, (a) => ({ contents: builtinModuleSource(`node:${a.path}`), loader: "js" }));
  },
};

/**
 * A builtin as a CommonJS module for the bundle. A builtin whose exports are a plain object
 * is loaded on the first read of one of its exports, not where a chunk names it: a chunk's
 * imports all run when the chunk loads, and kne's commands share chunks with code they do
 * not run (a `kne show` loaded node:http2, http, https and zlib for the --server client and
 * the server it never started: ~20 ms, --cpu-prof). The export names are the building
 * Node's; builtins that are functions or class instances (events, stream, assert, module,
 * process) are required at once as before, since their methods live on prototypes.
 */
const requireForBuild = createRequire(import.meta.url);
function builtinModuleSource(id) {
  const eager = `module.exports = require(${JSON.stringify(id)});`;
  // Only to read its shape; deprecated builtins (punycode) would warn on every build.
  const warned = process.noDeprecation;
  process.noDeprecation = true;
  const real = requireForBuild(id);
  process.noDeprecation = warned;
  const proto = real === null || typeof real !== "object" ? undefined : Object.getPrototypeOf(real);
  if (proto !== Object.prototype && proto !== null) return eager;
  const names = Object.getOwnPropertyNames(real);
  return [
    `let loaded;`,
    `const load = () => (loaded ??= require(${JSON.stringify(id)}));`,
    `for (const name of ${JSON.stringify(names)}) {`,
    `  Object.defineProperty(module.exports, name, { get: () => load()[name], set: (value) => { load()[name] = value; }, enumerable: true });`,
    `}`,
  ].join("\n");
}

/** `@scope/pkg/sub` → `@scope/pkg`, `pkg/sub` → `pkg`; node builtins → undefined. */
function packageName(path) {
  if (path.startsWith("node:")) return undefined;
  const parts = path.split("/");
  return path.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints,
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  chunkNames: "chunk-[hash]",
  platform: "node",
  format: "esm",
  target: "node24",
  // Packages' "module" (ESM) builds first: ESM is what esbuild can tree-shake.
  mainFields: ["module", "main"],
  sourcemap: true,
  minifySyntax: true,
  legalComments: "linked",
  logLevel: "warning",
  metafile: true,
  plugins: [builtinsAsRequire, externals],
  define: { KNE_BUILD_VERSION: JSON.stringify(projectVersion) },
  banner: {
    // ESM has no `require`; bundled CommonJS code that calls it (createRequire is the
    // documented bridge) would otherwise fail at run time. Aliased so that it cannot clash
    // with an import of createRequire in the bundled code.
    js: 'import { createRequire as __kneCreateRequire } from "node:module";\nconst require = __kneCreateRequire(import.meta.url);',
  },
});

// Some kept-external packages are loaded with createRequire (koffi, synchronously, on first
// use), which esbuild does not follow: the built code naming the package counts as using it.
const builtCode = Object.keys(result.metafile.outputs)
  .filter((file) => file.endsWith(".mjs"))
  .map((file) => readFileSync(resolve(file), "utf8"))
  .join("\n");
for (const name of Object.keys(keptExternal)) {
  if (builtCode.includes(`"${name}"`)) usedExternals.add(name);
}
const dependencies = {};
for (const name of [...usedExternals].sort()) {
  const manifest = JSON.parse(readFileSync(join(workspaceRoot, "node_modules", name, "package.json"), "utf8"));
  dependencies[name] = manifest.version;
}
for (const source of assets) copyFileSync(source, join(outdir, basename(source)));
// What every bin/ runs first (the runtime check, the compile cache), one copy for all apps.
copyFileSync(join(workspaceRoot, "tools", "scripts", "start-built-app.mjs"), join(outdir, "start.mjs"));
writeFileSync(join(outdir, "runtime-deps.json"), `${JSON.stringify({ dependencies }, null, 2)}\n`);

const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".mjs"));
const bytes = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(
  `built ${relative(process.cwd(), outdir)}/: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB from ${inputs} sources; ` +
    `runtime deps: ${Object.keys(dependencies).join(", ") || "none"}`,
);
