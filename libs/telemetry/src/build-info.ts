/**
 * Which KNE a process is and what it runs on: the project's version and the Node.js runtime,
 * for `kne version` and for the line every app logs when it starts.
 */
import { readFileSync } from "node:fs";

/** Set by the build (tools/scripts/build-app.mjs, esbuild `define`); absent when run from sources. */
declare const KNE_BUILD_VERSION: string | undefined;

export interface BuildInfo {
  /** The project's version (the root package.json's). */
  version: string;
  /** The Node.js runtime, as `process.version` spells it (v24.x.y). */
  node: string;
  /** `linux/x64` and the like. */
  platform: string;
}

let sourceVersion: string | undefined;

/** From sources (tests, development) the root package.json is three folders up from this file. */
function versionFromSources(): string {
  if (sourceVersion === undefined) {
    try {
      const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: unknown };
      sourceVersion = typeof manifest.version === "string" ? manifest.version : "unknown";
    } catch {
      sourceVersion = "unknown";
    }
  }
  return sourceVersion;
}

export function buildInfo(): BuildInfo {
  return {
    version: typeof KNE_BUILD_VERSION === "string" ? KNE_BUILD_VERSION : versionFromSources(),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
}
