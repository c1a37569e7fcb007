/**
 * Debian packages for image layers, without a container daemon or a root file system to
 * install into: apt resolves the dependency closure against a status file of our own (the
 * packages of the layers below, plus packages we declare present because only maintainer
 * scripts need them), `apt-get download` fetches the exact versions into a cache keyed by
 * the archive's SHA256, and `dpkg-deb --fsys-tarfile` gives each package's files, unpacked
 * in a merged-/usr layout (`bin/x` lands in `usr/bin/x`, as on Debian 12 systems).
 * Maintainer scripts never run: what they would do (users, links) the image spec says.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { extractTarStream } from "./tar-reader.ts";

export interface DebianPackage {
  name: string;
  version: string;
  architecture: string;
  /** SHA256 of the .deb as the archive's index gives it: the cache key and the check. */
  sha256: string;
  source?: string;
  provides?: string;
  multiArch?: string;
}

export class PackageError extends Error {}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(argv: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

function stanzas(text: string): Array<Map<string, string>> {
  const result: Array<Map<string, string>> = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = "";
    for (const line of block.split("\n")) {
      if (/^\s/.test(line) && last !== "") {
        fields.set(last, `${fields.get(last)}\n${line}`);
        continue;
      }
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      last = line.slice(0, colon);
      fields.set(last, line.slice(colon + 1).trim());
    }
    if (fields.has("Package")) result.push(fields);
  }
  return result;
}

/** The archive's record of each `name=version`. */
async function showPackages(wanted: ReadonlyArray<{ name: string; version: string }>): Promise<Map<string, DebianPackage>> {
  const found = new Map<string, DebianPackage>();
  if (wanted.length === 0) return found;
  const r = await run(["apt-cache", "show", ...wanted.map((p) => `${p.name}=${p.version}`)]);
  if (r.code !== 0) throw new PackageError(`apt-cache show failed: ${r.stderr.trim()}`);
  for (const f of stanzas(r.stdout)) {
    const name = f.get("Package")!;
    if (found.has(name)) continue;
    const sha256 = f.get("SHA256");
    if (!sha256) throw new PackageError(`apt-cache show ${name}: the index gives no SHA256 for it`);
    found.set(name, {
      name,
      version: f.get("Version")!,
      architecture: f.get("Architecture")!,
      sha256,
      ...(f.get("Source") ? { source: f.get("Source")! } : {}),
      ...(f.get("Provides") ? { provides: f.get("Provides")! } : {}),
      ...(f.get("Multi-Arch") ? { multiArch: f.get("Multi-Arch")! } : {}),
    });
  }
  for (const p of wanted) if (!found.has(p.name)) throw new PackageError(`apt-cache show: no record of ${p.name}=${p.version}`);
  return found;
}

/** The candidate record of packages declared present (their Provides matter for resolution). */
async function candidates(names: readonly string[]): Promise<Array<Map<string, string>>> {
  if (names.length === 0) return [];
  const r = await run(["apt-cache", "show", "--no-all-versions", ...names]);
  // Some names are virtual (debconf-2.0): apt-cache says so on stderr and shows the rest.
  return stanzas(r.stdout);
}

/**
 * Packages apt would install for `requested` on a system that holds `installed` (resolved
 * lower layers) and `assumed` (declared present). Recommends are not followed. Assumed
 * packages get a version above any real one, so that apt takes their (absent) dependencies
 * from our status file rather than from the archive and never reinstalls them.
 */
export async function resolveClosure(
  requested: readonly string[],
  installed: readonly DebianPackage[],
  assumed: readonly string[],
  workDir: string,
): Promise<DebianPackage[]> {
  const lines: string[] = [];
  for (const p of installed) {
    lines.push(`Package: ${p.name}`, "Status: install ok installed", `Version: ${p.version}`, `Architecture: ${p.architecture}`);
    if (p.multiArch) lines.push(`Multi-Arch: ${p.multiArch}`);
    if (p.provides) lines.push(`Provides: ${p.provides}`);
    lines.push("");
  }
  const installedNames = new Set(installed.map((p) => p.name));
  for (const f of await candidates(assumed.filter((n) => !installedNames.has(n)))) {
    lines.push(`Package: ${f.get("Package")}`, "Status: install ok installed", "Version: 999:assumed", `Architecture: ${f.get("Architecture")}`);
    if (f.get("Multi-Arch")) lines.push(`Multi-Arch: ${f.get("Multi-Arch")}`);
    if (f.get("Provides")) lines.push(`Provides: ${f.get("Provides")}`);
    lines.push("");
  }
  await mkdir(workDir, { recursive: true });
  const statusFile = join(workDir, `status-${process.pid}-${Date.now()}`);
  await writeFile(statusFile, lines.join("\n") + "\n");
  try {
    const r = await run([
      "apt-get",
      "install",
      "--simulate",
      "-qq",
      "--no-install-recommends",
      "-o",
      `Dir::State::status=${statusFile}`,
      "-o",
      "APT::Get::Show-Versions=false",
      ...requested,
    ]);
    if (r.code !== 0) {
      throw new PackageError(`apt cannot resolve ${requested.join(" ")}: ${(r.stderr || r.stdout).trim().split("\n").slice(-6).join(" | ")} (run apt-get update if the index is missing)`);
    }
    const picked: Array<{ name: string; version: string }> = [];
    for (const line of r.stdout.split("\n")) {
      // "Inst NAME (VERSION Origin [arch])" — a "[old]" after NAME would be an upgrade of a lower layer.
      const m = /^Inst (\S+) (\[[^\]]*\] )?\((\S+) /.exec(line);
      if (!m) continue;
      if (m[2]) throw new PackageError(`resolving ${requested.join(" ")} would change ${m[1]}, which a lower layer holds`);
      picked.push({ name: m[1]!.replace(/:amd64$/, ""), version: m[3]! });
    }
    const records = await showPackages(picked);
    return picked.map((p) => records.get(p.name)!).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } finally {
    await rm(statusFile, { force: true });
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The cached .deb of each package, downloading the missing ones; every file is checked. */
export async function fetchPackages(packages: readonly DebianPackage[], cacheDir: string): Promise<Map<string, string>> {
  await mkdir(cacheDir, { recursive: true });
  const paths = new Map<string, string>();
  const missing = packages.filter((p) => !existsSync(join(cacheDir, `${p.sha256}.deb`)));
  if (missing.length > 0) {
    const tmp = await mkdtemp(join(cacheDir, "download-"));
    try {
      // apt-get download as root drops to the _apt user unless told otherwise; the temporary
      // directory is ours, so it runs as root (no warning, no chmod dance).
      const r = await run(["apt-get", "download", "-qq", "-o", "APT::Sandbox::User=root", ...missing.map((p) => `${p.name}=${p.version}`)], { cwd: tmp });
      if (r.code !== 0) throw new PackageError(`apt-get download failed: ${r.stderr.trim()}`);
      const files = await readdir(tmp);
      for (const p of missing) {
        const file = files.find((f) => f.startsWith(`${p.name}_`) && f.endsWith(".deb"));
        if (!file) throw new PackageError(`apt-get download gave no file for ${p.name}=${p.version}`);
        const got = await sha256File(join(tmp, file));
        if (got !== p.sha256) throw new PackageError(`${file}: SHA256 ${got}, the archive's index says ${p.sha256}`);
        await rename(join(tmp, file), join(cacheDir, `${p.sha256}.deb`));
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  for (const p of packages) paths.set(p.name, join(cacheDir, `${p.sha256}.deb`));
  return paths;
}

/** Top-level directories that merged /usr folds into /usr. */
const mergedUsr = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/** A package path in the merged-/usr layout: `./bin/ip` → `usr/bin/ip`. */
export function mergedUsrPath(path: string): string {
  const p = path.replace(/^\.\//, "").replace(/\/$/, "");
  const top = p.split("/")[0]!;
  return mergedUsr.includes(top) ? `usr/${p}` : p;
}

/** Unpacks each package's files onto `root` (merged /usr). */
export async function unpackPackages(debs: readonly string[], root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const deb of debs) {
    const child = spawn("dpkg-deb", ["--fsys-tarfile", deb], { stdio: ["ignore", "pipe", "pipe"] });
    const err: Buffer[] = [];
    child.stderr.on("data", (c: Buffer) => err.push(c));
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
    await extractTarStream(child.stdout as AsyncIterable<Buffer>, root, mergedUsrPath);
    const code = await exited;
    if (code !== 0) throw new PackageError(`dpkg-deb --fsys-tarfile ${deb} failed: ${Buffer.concat(err).toString("utf8").trim()}`);
  }
}
