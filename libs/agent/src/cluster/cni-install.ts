/**
 * Installs the chained CNI plugin on a node: the plugin file into the node's CNI bin
 * directory, and an entry after the cluster's own plugins in the node's conflist (the first
 * file of the conf directory by name, the one the runtime uses). Both writes are atomic
 * (a dot-named temporary file renamed over the target), and installing twice changes nothing.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidArgumentError } from "@kne/dataplane";

/** The plugin's type in the conflist and its file name in the bin directory. */
export const CNI_PLUGIN_TYPE = "kne-cni";

/**
 * The plugin's source (plain JavaScript, Node's standard library only): in this package when
 * run from sources, beside the bundle's chunks in a built app (its build copies the file).
 */
export const cniPluginSource = [
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "cni", "kne-cni.mjs"),
  join(dirname(fileURLToPath(import.meta.url)), "kne-cni.mjs"),
].find((path) => existsSync(path)) ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..", "cni", "kne-cni.mjs");

export interface CniInstallOptions {
  /** The node's CNI bin directory (the runtime's `bin_dir`). */
  binDir: string;
  /** The node's CNI conf directory (the runtime's `conf_dir`). */
  confDir: string;
  /** Where the plugin writes a file per pod sandbox for the agent to read. */
  handoffDir: string;
  /** The Node runtime the plugin runs with on the node (its `#!` line). */
  nodePath: string;
}

export interface CniInstallReport {
  pluginPath: string;
  conflistPath: string;
  /** False when both were already as wanted. */
  changed: boolean;
}

interface PluginEntry {
  type?: unknown;
  [key: string]: unknown;
}

interface Conflist {
  cniVersion?: string;
  name?: string;
  plugins?: PluginEntry[];
  [key: string]: unknown;
}

function absolute(path: string, field: string): void {
  if (!path || !isAbsolute(path)) throw new InvalidArgumentError(`${JSON.stringify(path)} must be an absolute path`, field);
}

function writeAtomically(path: string, content: string, mode: number): void {
  const tmp = join(dirname(path), `.${CNI_PLUGIN_TYPE}-${process.pid}.tmp`);
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** The conflist the runtime uses: the first `.conflist` of the directory by name. */
export function activeConflist(confDir: string): string {
  const files = readdirSync(confDir)
    .filter((f) => !f.startsWith(".") && (f.endsWith(".conflist") || f.endsWith(".conf") || f.endsWith(".json")))
    .sort();
  const first = files[0];
  if (!first) throw new InvalidArgumentError(`no CNI network configuration in ${confDir}: install the cluster's pod network first`, "confDir");
  if (!first.endsWith(".conflist")) {
    throw new InvalidArgumentError(`${join(confDir, first)} is a single-plugin configuration; a chained plugin needs a .conflist`, "confDir");
  }
  return join(confDir, first);
}

function readConflist(path: string): Conflist {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`${path} is not JSON: ${(err as Error).message}`, "confDir");
  }
  const list = parsed as Conflist;
  if (typeof parsed !== "object" || parsed === null || !Array.isArray(list.plugins) || list.plugins.length === 0) {
    throw new InvalidArgumentError(`${path}: "plugins" must be a non-empty list`, "confDir");
  }
  return list;
}

/** Copies the plugin and chains it after the cluster's plugins; idempotent. */
export function installCniPlugin(options: CniInstallOptions): CniInstallReport {
  absolute(options.binDir, "binDir");
  absolute(options.confDir, "confDir");
  absolute(options.handoffDir, "handoffDir");
  absolute(options.nodePath, "nodePath");
  const source = readFileSync(cniPluginSource, "utf8").replace(/^#!.*\n/, "");
  const plugin = `#!${options.nodePath}\n${source}`;
  const pluginPath = join(options.binDir, CNI_PLUGIN_TYPE);
  let changed = false;
  if (!existsSync(pluginPath) || readFileSync(pluginPath, "utf8") !== plugin) {
    writeAtomically(pluginPath, plugin, 0o755);
    changed = true;
  }
  const conflistPath = activeConflist(options.confDir);
  const list = readConflist(conflistPath);
  const entry = { type: CNI_PLUGIN_TYPE, handoffDir: options.handoffDir };
  const others = list.plugins!.filter((p) => p.type !== CNI_PLUGIN_TYPE);
  // Last in the chain: it sees the primary network's result and passes it on unchanged.
  const wanted = { ...list, plugins: [...others, entry] };
  if (JSON.stringify(wanted) !== JSON.stringify(list)) {
    writeAtomically(conflistPath, `${JSON.stringify(wanted, null, 2)}\n`, 0o644);
    changed = true;
  }
  return { pluginPath, conflistPath, changed };
}

/**
 * Takes the plugin out of the conflist; what is absent is fine. The plugin's file stays: the
 * runtime tears a sandbox down with the configuration it was set up with, so a sandbox made
 * while the plugin was chained runs it on DEL (without the file, its pod could never stop).
 */
export function uninstallCniPlugin(options: Pick<CniInstallOptions, "confDir">): void {
  absolute(options.confDir, "confDir");
  let conflistPath: string | undefined;
  try {
    conflistPath = activeConflist(options.confDir);
  } catch {
    conflistPath = undefined;
  }
  if (conflistPath) {
    const list = readConflist(conflistPath);
    const plugins = list.plugins!.filter((p) => p.type !== CNI_PLUGIN_TYPE);
    if (plugins.length !== list.plugins!.length) writeAtomically(conflistPath, `${JSON.stringify({ ...list, plugins }, null, 2)}\n`, 0o644);
  }
}

/**
 * Copies the Node runtime the agent runs on into a directory of the node (`<dir>/node`) and
 * returns its path, for the plugin's `#!` line: the plugin runs on the node, outside the
 * agent's container, where the image's runtime is not. Copied only when size or mtime differ.
 */
export function installNodeRuntime(dir: string, source = process.execPath): string {
  absolute(dir, "runtimeDir");
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const target = join(dir, "node");
  const from = statSync(source);
  const to = existsSync(target) ? statSync(target) : undefined;
  if (!to || to.size !== from.size || Math.floor(to.mtimeMs / 1000) !== Math.floor(from.mtimeMs / 1000)) {
    const tmp = join(dir, `.node-${process.pid}.tmp`);
    copyFileSync(source, tmp);
    chmodSync(tmp, 0o755);
    utimesSync(tmp, from.atime, from.mtime);
    renameSync(tmp, target);
  }
  return target;
}
