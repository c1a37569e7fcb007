/**
 * The npm packages an app's bundle loads at run time, and their copy into an image.
 *
 * Contract with the app build: `apps/<app>/dist/runtime-deps.json` =
 * `{"dependencies": {"<package>": "<exact version>"}}` lists every package the bundle
 * imports or requires at run time (also through `createRequire`), each at the version the
 * workspace has installed. Without that file, the list is read from the bundle itself: its
 * bare import specifiers (`from "x"`, `import("x")`, `require("x")`, `createRequire(...)("x")`)
 * minus Node's built-in modules, at the versions installed in the workspace.
 *
 * The packages and everything they depend on are copied from the workspace's node_modules,
 * so the image holds exactly the versions package-lock.json gave (no registry at build
 * time), in the same nesting; type declarations, source maps and Markdown are left out.
 */
import { existsSync, readFileSync } from "node:fs";
import { cp, readdir, stat } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, join, relative, sep } from "node:path";

export class RuntimeDepsError extends Error {}

/** The package name of a bare specifier: `@scope/name/sub` → `@scope/name`. */
export function packageOfSpecifier(specifier: string): string | undefined {
  if (specifier.startsWith("node:") || specifier.startsWith(".") || specifier.startsWith("/")) return undefined;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
  if (builtinModules.includes(name) || builtinModules.includes(specifier)) return undefined;
  return name;
}

/** Bare specifiers a bundle loads: static and dynamic imports, require and createRequire calls. */
export function bareImportsOfBundle(code: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /\bfrom\s*"([^"]+)"/g,
    /\bimport\s*"([^"]+)"/g,
    /\bimport\(\s*"([^"]+)"\s*\)/g,
    /\brequire\(\s*"([^"]+)"\s*\)/g,
    /\bcreateRequire\([^()]*(?:\([^()]*\))?[^()]*\)\(\s*"([^"]+)"\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const m of code.matchAll(pattern)) {
      const name = packageOfSpecifier(m[1]!);
      if (name && /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) found.add(name);
    }
  }
  return [...found].sort();
}

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
}

/** Node's lookup: `<dir>/node_modules/<name>`, then each parent up to `stopAt`. */
function findPackageDir(name: string, fromDir: string, stopAt: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === stopAt || dirname(dir) === dir) return undefined;
  }
}

export interface RuntimeDeps {
  /** Where the list came from: the build's file or the bundle's imports. */
  origin: "runtime-deps.json" | "bundle imports";
  dependencies: Record<string, string>;
}

/** The app's runtime dependency list, from dist/runtime-deps.json or else from the bundle. */
export function readRuntimeDeps(appDir: string, workspaceRoot: string): RuntimeDeps {
  const file = join(appDir, "dist", "runtime-deps.json");
  const shown = relative(workspaceRoot, file);
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new RuntimeDepsError(`${shown}: not valid JSON: ${(e as Error).message}`);
    }
    const deps = (parsed as { dependencies?: unknown }).dependencies;
    if (typeof deps !== "object" || deps === null || Array.isArray(deps)) throw new RuntimeDepsError(`${shown}: dependencies: expected {"<package>": "<exact version>"}`);
    for (const [name, version] of Object.entries(deps)) {
      if (typeof version !== "string" || !/^\d+\.\d+\.\d+([-+][\w.-]+)?$/.test(version)) {
        throw new RuntimeDepsError(`${shown}: dependencies.${name}: expected an exact version, got ${JSON.stringify(version)}`);
      }
    }
    return { origin: "runtime-deps.json", dependencies: deps as Record<string, string> };
  }
  const bundle = join(appDir, "dist", "main.mjs");
  if (!existsSync(bundle)) throw new RuntimeDepsError(`${relative(workspaceRoot, bundle)}: missing; build the app first (npx nx run-many -t build)`);
  const dependencies: Record<string, string> = {};
  for (const name of bareImportsOfBundle(readFileSync(bundle, "utf8"))) {
    const dir = findPackageDir(name, appDir, workspaceRoot);
    if (!dir) throw new RuntimeDepsError(`${relative(workspaceRoot, bundle)} imports ${name}, which the workspace has not installed`);
    dependencies[name] = readPackageJson(dir).version ?? "0.0.0";
  }
  return { origin: "bundle imports", dependencies };
}

/** Files a running program never reads. */
const skippedFile = /(\.d\.[cm]?ts|\.map|\.md|\.markdown|\.tsbuildinfo)$/i;

/**
 * Copies the packages and their dependency closure from the workspace into
 * `targetDir/node_modules`. Returns `name@version` of every package copied, sorted.
 */
export async function copyRuntimePackages(deps: RuntimeDeps, appDir: string, workspaceRoot: string, targetDir: string): Promise<string[]> {
  const copied = new Map<string, string>(); // image path → name@version
  const queue: Array<{ name: string; from: string; wanted?: string; optional: boolean; by: string }> = Object.entries(deps.dependencies)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, wanted]) => ({ name, from: appDir, wanted, optional: false, by: deps.origin }));
  while (queue.length > 0) {
    const item = queue.shift()!;
    const dir = findPackageDir(item.name, item.from, workspaceRoot);
    if (!dir) {
      if (item.optional) continue;
      throw new RuntimeDepsError(`${item.name} (needed by ${item.by}) is not installed in the workspace: run npm ci`);
    }
    const pkg = readPackageJson(dir);
    if (item.wanted && pkg.version !== item.wanted) {
      throw new RuntimeDepsError(`${item.by} asks for ${item.name}@${item.wanted}, the workspace has ${pkg.version} in ${relative(workspaceRoot, dir)}`);
    }
    // The package's place in the image mirrors its place under the nearest node_modules.
    const rel = relative(workspaceRoot, dir).split(sep);
    const firstModules = rel.indexOf("node_modules");
    const inImage = rel.slice(firstModules).join("/");
    const id = `${pkg.name}@${pkg.version}`;
    const already = copied.get(inImage);
    if (already !== undefined) {
      if (already !== id) throw new RuntimeDepsError(`${inImage}: both ${already} and ${id} would go there`);
      continue;
    }
    copied.set(inImage, id);
    await cp(dir, join(targetDir, inImage), {
      recursive: true,
      // Nested node_modules are copied package by package (only what is needed); .bin links are for shells.
      filter: (src) => {
        const sub = relative(dir, src);
        if (sub === "") return true;
        if (sub.split(sep)[0] === "node_modules") return false;
        return !skippedFile.test(src);
      },
    });
    const next = [
      ...Object.keys(pkg.dependencies ?? {}).map((name) => ({ name, optional: false })),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
      ...Object.keys(pkg.peerDependencies ?? {}).map((name) => ({ name, optional: pkg.peerDependenciesMeta?.[name]?.optional === true })),
    ];
    for (const n of next) queue.push({ ...n, from: dir, by: id });
  }
  return [...copied.values()].sort();
}

/** Total size of the files under a directory (for reports). */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const st = await stat(join(dir, name));
    total += st.isDirectory() ? await treeSize(join(dir, name)) : st.size;
  }
  return total;
}
