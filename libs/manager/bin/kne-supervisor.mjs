#!/usr/bin/env node
// The per-topology supervisor process (started detached by the local backend).
//
// There is no build step: the sources are TypeScript, loaded through tsx, which costs a
// second or more at every start (seconds on a loaded machine). So the first supervisor that
// starts that way also bundles the supervisor (esbuild, when installed) into
// `.cache/kne-supervisor.bundle.mjs` (in a short-lived process of its own: `--build-bundle`),
// and later starts load that bundle (a fifth of a second) for as long as none of the files it
// was made from changed since.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, "..", "src", "local", "supervisor-main.ts");
const cacheDir = join(here, ".cache");
const bundle = join(cacheDir, "kne-supervisor.bundle.mjs");
const meta = join(cacheDir, "kne-supervisor.bundle.json");

/** Whether the bundle exists and none of its inputs changed (or went) since it was made. */
function bundleIsFresh() {
  try {
    if (process.env.KNE_SUPERVISOR_NO_BUNDLE) return false;
    const m = JSON.parse(readFileSync(meta, "utf8"));
    if (!existsSync(bundle) || !Array.isArray(m.inputs) || m.inputs.length === 0) return false;
    for (const input of m.inputs) if (statSync(input).mtimeMs > m.builtAt) return false;
    return true;
  } catch {
    return false;
  }
}

/** Bundles the supervisor for the next starts; any failure leaves things as they were. */
async function buildBundle() {
  try {
    const esbuild = await import("esbuild");
    const builtAt = Date.now();
    const workDir = resolve(here, "..");
    const tmp = `${bundle}.${process.pid}.tmp`;
    const result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: workDir,
      bundle: true,
      platform: "node",
      format: "esm",
      target: `node${process.versions.node.split(".")[0]}`,
      outfile: tmp,
      metafile: true,
      logLevel: "silent",
      banner: { js: "import { createRequire as __kneCreateRequire } from 'node:module'; const require = __kneCreateRequire(import.meta.url);" },
    });
    const inputs = Object.keys(result.metafile.inputs).map((p) => resolve(workDir, p));
    mkdirSync(cacheDir, { recursive: true });
    renameSync(tmp, bundle);
    writeFileSync(`${meta}.${process.pid}.tmp`, JSON.stringify({ builtAt, inputs }));
    renameSync(`${meta}.${process.pid}.tmp`, meta);
  } catch {
    // No esbuild, or a read-only install: keep starting through tsx.
  }
}

/**
 * Starts `--build-bundle` detached, once this supervisor is up and has started its nodes (not
 * on the way of this start), without the state dir in its environment: it is none of the
 * topology's processes.
 */
function buildBundleLater() {
  if (process.env.KNE_SUPERVISOR_NO_BUNDLE) return;
  setTimeout(() => {
    const env = { ...process.env };
    delete env.KNE_STATE_DIR;
    try {
      spawn(process.execPath, [fileURLToPath(import.meta.url), "--build-bundle"], { detached: true, stdio: "ignore", cwd: "/", env }).unref();
    } catch {
      // Next time.
    }
  }, 3000).unref();
}

if (process.argv[2] === "--build-bundle") {
  await buildBundle();
} else if (bundleIsFresh()) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  buildBundleLater();
  await import("../src/local/supervisor-main.ts");
}
