/**
 * Builds the images of deploy/images: for each, the stack of layers (shared Debian package
 * layers, the image's own packages, Node and the app bundle for app images, then the
 * image's own files), each cached by a key over its inputs, and the OCI layout archive.
 *
 * Keys: a package layer's key covers the exact packages (name, version, SHA256 of the .deb)
 * and the pruning; Node's covers the binary's hash; an app's covers its bundle, its runtime
 * dependency list and package-lock.json; every key covers this builder's own source and
 * the fixed timestamp. An image's key covers its layers' keys and its spec and files; the
 * tag is that key's prefix. Same key, same bytes: a rebuild from nothing gives the same
 * manifest digest (checked by `build.sh --check-reproducible` and the integration test).
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { cp, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type DebianPackage, fetchPackages, mergedUsrPath, resolveClosure, run, unpackPackages } from "./debian-packages.ts";
import { type ImageSpec, type SharedLayerSpec, loadImageSpec, loadSharedLayer } from "./image-spec.ts";
import { type LayerBlob, digestOf, imageConfig, manifest, mediaTypes, writeImageLayout, writeLayerBlob } from "./oci-layout.ts";
import { defaultPrune, imageFilesEntries, prune, skeletonEntries } from "./root-filesystem.ts";
import { copyRuntimePackages, readRuntimeDeps } from "./runtime-deps.ts";
import { type TarEntry, collectTree, comparePaths } from "./tar-writer.ts";

export interface BuildOptions {
  workspaceRoot: string;
  imagesDir: string;
  /** Layers, images, lists and staging (default /var/cache/kne-images). */
  cacheRoot: string;
  /** Downloaded .debs, by SHA256 (default <cacheRoot>/debs); may be shared between caches. */
  debCache?: string;
  /** Seconds since the epoch written as every mtime and as `created`. */
  mtime: number;
  log: (message: string) => void;
}

export interface BuiltImage {
  name: string;
  ref: string;
  tag: string;
  /** The manifest's digest: what a runtime shows as the image's digest. */
  digest: string;
  /** The OCI layout archive. */
  file: string;
  /** Compressed bytes of config, manifest and layers (what a registry or the archive moves). */
  size: number;
  /** Uncompressed bytes of the layers' tar streams. */
  unpackedSize: number;
  layers: Array<{ name: string; digest: string; size: number; unpackedSize: number }>;
  vendor?: string;
  app?: string;
  user: number;
}

type LayerPlan =
  | { kind: "packages"; name: string; packages: DebianPackage[]; prune: string[]; skeleton: boolean }
  | { kind: "node"; name: string; version: string; binary: string; binarySha256: string }
  | { kind: "app"; name: string; app: string; distSha256: string; deps: Record<string, string>; depsOrigin: string; lockSha256: string };

interface CachedLayer extends LayerBlob {
  key: string;
  file: string;
  paths: string[];
  busyboxApplets: string[];
}

const here = dirname(fileURLToPath(import.meta.url));

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The builder's own source: a change to how images are made changes every key. */
function recipeHash(): string {
  const files = readdirSync(here)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".spec.ts"))
    .sort();
  return sha256(files.map((f) => `${f}\n${readFileSync(join(here, f), "utf8")}`).join("\n"));
}

/** Path, mode (executable or not) and content of every file under a directory. */
function treeHash(root: string): string {
  const parts: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort(comparePaths)) {
      const abs = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const st = statSync(abs);
      if (st.isDirectory()) walk(abs, path);
      else parts.push(`${path} ${st.mode & 0o100 ? "x" : "-"} ${sha256(readFileSync(abs))}`);
    }
  };
  walk(root, "");
  return sha256(parts.join("\n"));
}

/** The Node version and binary the project installs (tools/setup/install-node.sh owns both). */
async function projectNode(workspaceRoot: string): Promise<{ version: string; binary: string }> {
  const script = join(workspaceRoot, "tools/setup/install-node.sh");
  const m = /^NODE_VERSION=(\S+)$/m.exec(readFileSync(script, "utf8"));
  if (!m) throw new Error(`${relative(workspaceRoot, script)}: no NODE_VERSION= line`);
  const r = await run(["bash", script]);
  if (r.code !== 0) throw new Error(`install-node.sh failed: ${r.stderr.trim()}`);
  const binary = join(r.stdout.trim().split("\n").pop()!, "node");
  const v = await run([binary, "--version"]);
  if (v.stdout.trim() !== `v${m[1]}`) throw new Error(`${binary} is ${v.stdout.trim()}, install-node.sh pins v${m[1]}`);
  return { version: m[1]!, binary };
}

/** In-image path of the project's Node, the same as on a host. */
export function nodePrefixInImage(version: string): string {
  return `opt/kne/node/${version}`;
}

export class ImageBuilder {
  private readonly recipe = recipeHash();
  private readonly resolutions = new Map<string, Promise<DebianPackage[]>>();
  private node?: Promise<{ version: string; binary: string; sha256: string }>;
  private readonly layersDir: string;
  private readonly imagesOut: string;
  private readonly staging: string;
  private readonly debCache: string;

  private readonly o: BuildOptions;

  constructor(options: BuildOptions) {
    const o = options;
    this.o = options;
    this.layersDir = join(o.cacheRoot, "layers");
    this.imagesOut = join(o.cacheRoot, "images");
    this.staging = join(o.cacheRoot, "tmp");
    this.debCache = o.debCache ?? join(o.cacheRoot, "debs");
  }

  /** The apt index's identity: a new `apt-get update` may change every resolution. */
  private aptIndexKey(): string {
    const dir = "/var/lib/apt/lists";
    const lists = existsSync(dir) ? readdirSync(dir).filter((f) => f.includes("_Packages")).sort() : [];
    return sha256(lists.map((f) => `${f} ${statSync(join(dir, f)).size} ${statSync(join(dir, f)).mtimeMs}`).join("\n"));
  }

  private resolve(requested: readonly string[], installed: readonly DebianPackage[], assumed: readonly string[]): Promise<DebianPackage[]> {
    const key = sha256(JSON.stringify({ requested, installed: installed.map((p) => `${p.name}=${p.version}`), assumed, index: this.aptIndexKey() }));
    let found = this.resolutions.get(key);
    if (!found) {
      found = (async () => {
        const file = join(this.o.cacheRoot, "resolved", `${key}.json`);
        if (existsSync(file)) return JSON.parse(await readFile(file, "utf8")) as DebianPackage[];
        const packages = await resolveClosure(requested, installed, assumed, this.staging);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, JSON.stringify(packages));
        return packages;
      })();
      this.resolutions.set(key, found);
    }
    return found;
  }

  private projectNode(): Promise<{ version: string; binary: string; sha256: string }> {
    this.node ??= projectNode(this.o.workspaceRoot).then(async (n) => ({ ...n, sha256: await sha256OfFile(n.binary) }));
    return this.node;
  }

  /** The layers of an image, bottom first, with their keys; nothing built yet. */
  private async plan(spec: ImageSpec): Promise<LayerPlan[]> {
    const plans: LayerPlan[] = [];
    const installed: DebianPackage[] = [];
    let assumed: string[] = [];
    const shared: SharedLayerSpec[] = spec.layers.map((name, i) => loadSharedLayer(this.o.imagesDir, name, i === 0));
    for (const [i, layer] of shared.entries()) {
      if (i === 0) assumed = layer.assumeInstalled;
      const packages = await this.resolve(layer.packages, installed, assumed);
      plans.push({ kind: "packages", name: layer.name, packages, prune: [...defaultPrune], skeleton: i === 0 });
      installed.push(...packages);
    }
    if (spec.packages.length > 0) {
      const packages = await this.resolve(spec.packages, installed, assumed);
      plans.push({ kind: "packages", name: `${spec.name}-packages`, packages, prune: [...defaultPrune, ...spec.prune], skeleton: false });
    }
    if (spec.app) {
      const node = await this.projectNode();
      plans.push({ kind: "node", name: `node-${node.version}`, version: node.version, binary: node.binary, binarySha256: node.sha256 });
      const appDir = join(this.o.workspaceRoot, "apps", spec.app);
      if (!existsSync(appDir)) throw new Error(`${spec.file}: app: no folder apps/${spec.app}`);
      const deps = readRuntimeDeps(appDir, this.o.workspaceRoot);
      plans.push({
        kind: "app",
        name: spec.app,
        app: spec.app,
        // The whole build output: the entry, the chunks it splits into, and their source maps.
        distSha256: treeHash(join(appDir, "dist")),
        deps: deps.dependencies,
        depsOrigin: deps.origin,
        lockSha256: await sha256OfFile(join(this.o.workspaceRoot, "package-lock.json")),
      });
    }
    return plans;
  }

  private layerKey(plan: LayerPlan): string {
    const { binary: _binary, ...stable } = plan as LayerPlan & { binary?: string };
    return sha256(JSON.stringify({ recipe: this.recipe, mtime: this.o.mtime, plan: stable }));
  }

  private async layer(plan: LayerPlan): Promise<CachedLayer> {
    const key = this.layerKey(plan);
    const dir = join(this.layersDir, key);
    const metaFile = join(dir, "layer.json");
    if (existsSync(metaFile)) return { ...(JSON.parse(await readFile(metaFile, "utf8")) as CachedLayer), file: join(dir, "layer.tar.gz") };
    const started = Date.now();
    const stage = join(this.staging, `layer-${key.slice(0, 16)}-${process.pid}`);
    await rm(stage, { recursive: true, force: true });
    await mkdir(stage, { recursive: true });
    try {
      let entries: TarEntry[];
      let busyboxApplets: string[] = [];
      if (plan.kind === "packages") {
        const debs = await fetchPackages(plan.packages, this.debCache);
        await unpackPackages(
          plan.packages.map((p) => debs.get(p.name)!),
          stage,
        );
        await prune(stage, plan.prune);
        if (existsSync(join(stage, "usr/bin/busybox"))) {
          const r = await run([join(stage, "usr/bin/busybox"), "--list-full"]);
          busyboxApplets = r.stdout
            .split("\n")
            .filter((l) => l !== "")
            .map(mergedUsrPath)
            .filter((p) => p.startsWith("usr/"))
            .sort(comparePaths);
        }
        const tree = await collectTree(stage);
        const byPath = new Map<string, TarEntry>();
        if (plan.skeleton) for (const e of skeletonEntries()) byPath.set(e.path, e);
        for (const e of tree) if (!(plan.skeleton && byPath.get(e.path)?.type === "symlink")) byPath.set(e.path, e);
        entries = [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
      } else if (plan.kind === "node") {
        const prefix = nodePrefixInImage(plan.version);
        const parts = prefix.split("/");
        entries = parts.map((_, i) => ({ path: parts.slice(0, i + 1).join("/"), type: "directory" as const, mode: 0o755, uid: 0, gid: 0 }));
        entries.push({ path: `${prefix}/bin`, type: "directory", mode: 0o755, uid: 0, gid: 0 });
        const size = statSync(plan.binary).size;
        entries.push({ path: `${prefix}/bin/node`, type: "file", mode: 0o755, uid: 0, gid: 0, source: plan.binary, size });
        if (sha256(readFileSync(plan.binary)) !== plan.binarySha256) throw new Error(`${plan.binary} changed during the build`);
      } else {
        const appDir = join(this.o.workspaceRoot, "apps", plan.app);
        const target = join(stage, "opt", "kne", plan.app);
        await mkdir(target, { recursive: true });
        await cp(join(appDir, "dist"), target, { recursive: true });
        if (treeHash(target) !== plan.distSha256) throw new Error(`apps/${plan.app}/dist changed during the build`);
        const copied = await copyRuntimePackages({ origin: plan.depsOrigin as "bundle imports", dependencies: plan.deps }, appDir, this.o.workspaceRoot, target);
        await writeFile(join(target, "runtime-packages.txt"), copied.join("\n") + "\n");
        this.o.log(`  ${plan.app}: ${copied.length} npm packages (list from ${plan.depsOrigin})`);
        // Modes as git gives them whatever the umask: files 0644 (0755 if executable), directories 0755.
        entries = (await collectTree(stage)).map((e) => ({ ...e, mode: e.type === "directory" ? 0o755 : e.type === "file" ? (e.mode & 0o100 ? 0o755 : 0o644) : e.mode }));
      }
      await mkdir(dir, { recursive: true });
      const blob = await writeLayerBlob(entries, this.o.mtime, join(dir, "layer.tar.gz"));
      const meta = { ...blob, key, paths: entries.map((e) => e.path), busyboxApplets };
      // Another checkout may build the same layer at the same time: each writes its own file.
      await writeFile(`${metaFile}.${process.pid}`, JSON.stringify(meta));
      await rename(`${metaFile}.${process.pid}`, metaFile);
      this.o.log(`  layer ${plan.name}: ${(blob.size / 1e6).toFixed(1)} MB compressed, ${(blob.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { ...meta, file: join(dir, "layer.tar.gz") };
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }

  /** Builds one image, or finds it in the cache; returns what the list file records. */
  async build(name: string): Promise<BuiltImage & { cached: boolean }> {
    const spec = loadImageSpec(this.o.imagesDir, name);
    const plans = await this.plan(spec);
    const layerKeys = plans.map((p) => this.layerKey(p));
    const { dir: _dir, file: _file, filesDir, ...specFields } = spec;
    const imageKey = sha256(
      JSON.stringify({ recipe: this.recipe, mtime: this.o.mtime, spec: specFields, files: filesDir ? treeHash(filesDir) : null, layers: layerKeys }),
    );
    const tag = imageKey.slice(0, 16);
    const ref = `localhost/kne/${name}:${tag}`;
    const outDir = join(this.imagesOut, `${name}-${tag}`);
    const recordFile = join(outDir, "image.json");
    if (existsSync(recordFile)) return { ...(JSON.parse(await readFile(recordFile, "utf8")) as BuiltImage), cached: true };

    this.o.log(`${name}: building ${ref}`);
    const layers: Array<CachedLayer & { createdBy: string }> = [];
    for (const plan of plans) {
      const layer = await this.layer(plan);
      const what =
        plan.kind === "packages" ? `debian packages (${plan.name}): ${plan.packages.map((p) => p.name).join(" ")}` : plan.kind === "node" ? `node ${plan.version}` : `app ${plan.app}`;
      layers.push({ ...layer, createdBy: what });
    }
    const existing = new Set(layers.flatMap((l) => l.paths));
    const applets = spec.busyboxApplets ? layers.flatMap((l) => l.busyboxApplets) : [];
    if (spec.busyboxApplets && applets.length === 0) throw new Error(`${spec.file}: busyboxApplets: no layer of the image carries busybox`);
    const packages = plans.flatMap((p) => (p.kind === "packages" ? p.packages : []));
    let top = imageFilesEntries(spec, packages, existing, applets);
    if (filesDir) {
      const own = (await collectTree(filesDir)).map((e) => ({ ...e, mode: e.type === "directory" ? 0o755 : e.type === "file" ? (e.mode & 0o100 ? 0o755 : 0o644) : e.mode }));
      const paths = new Set(own.map((e) => e.path));
      top = [...top.filter((e) => !(paths.has(e.path) && e.type === "directory")), ...own];
    }
    const dedup = new Map<string, TarEntry>();
    for (const e of top) dedup.set(e.path, e);
    top = [...dedup.values()].sort((a, b) => comparePaths(a.path, b.path));
    await mkdir(outDir, { recursive: true });
    const topFile = join(outDir, "image-files.tar.gz");
    const topBlob = await writeLayerBlob(top, this.o.mtime, topFile);
    const allLayers = [...layers, { ...topBlob, file: topFile, createdBy: `image files (${spec.file})` }];

    const created = new Date(this.o.mtime * 1000).toISOString().replace(/\.000Z$/, "Z");
    const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...spec.env };
    if (spec.app) {
      const node = await this.projectNode();
      env.PATH = `/${nodePrefixInImage(node.version)}/bin:${env.PATH}`;
    }
    // An app image runs its bundle on the project's Node unless the spec says otherwise.
    let entrypoint = spec.entrypoint;
    if (spec.app && entrypoint.length === 0) {
      const node = await this.projectNode();
      // Source maps on, as the app's bin turns them on: stack traces name the TypeScript lines.
      entrypoint = [`/${nodePrefixInImage(node.version)}/bin/node`, "--enable-source-maps", `/opt/kne/${spec.app}/main.mjs`];
    }
    const configBytes = imageConfig({
      created,
      user: spec.user === 0 ? "0:0" : `${spec.user}:${spec.users.find((u) => u.uid === spec.user)?.gid ?? spec.user}`,
      env: Object.keys(env)
        .sort()
        .map((k) => `${k}=${env[k as keyof typeof env]}`),
      entrypoint,
      cmd: spec.cmd,
      workingDir: spec.workingDir,
      labels: {
        "org.opencontainers.image.title": name,
        "org.opencontainers.image.description": spec.description,
        "org.opencontainers.image.version": tag,
        ...(spec.vendor ? { "dev.kne.vendor": spec.vendor } : {}),
      },
      layers: allLayers,
    });
    const configDescriptor = { mediaType: mediaTypes.config, digest: digestOf(configBytes), size: configBytes.length };
    const manifestBytes = manifest(
      configDescriptor,
      allLayers.map((l) => ({ mediaType: mediaTypes.layer, digest: l.digest, size: l.size })),
      { "org.opencontainers.image.title": name, "org.opencontainers.image.version": tag },
    );
    const archive = join(outDir, `${name}.oci.tar`);
    const layout = await writeImageLayout(archive, ref, configBytes, manifestBytes, allLayers, this.o.mtime);
    const record: BuiltImage = {
      name,
      ref,
      tag,
      digest: layout.manifestDigest,
      file: archive,
      size: configBytes.length + manifestBytes.length + allLayers.reduce((s, l) => s + l.size, 0),
      unpackedSize: allLayers.reduce((s, l) => s + l.unpackedSize, 0),
      layers: allLayers.map((l, i) => ({ name: i < plans.length ? plans[i]!.name : "image-files", digest: l.digest, size: l.size, unpackedSize: l.unpackedSize })),
      ...(spec.vendor ? { vendor: spec.vendor } : {}),
      ...(spec.app ? { app: spec.app } : {}),
      user: spec.user,
    };
    await writeFile(`${recordFile}.${process.pid}`, JSON.stringify(record, null, 2) + "\n");
    await rename(`${recordFile}.${process.pid}`, recordFile);
    return { ...record, cached: false };
  }
}
