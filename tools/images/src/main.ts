/**
 * The images command (tools/images/build.sh runs it after building the apps):
 *
 *   main.ts build [NAME...] [--check-reproducible]   build (or find cached) images, write the list
 *   main.ts unpack ARCHIVE DIR                        unpack an image's root file system onto DIR
 *   main.ts list                                      print the list file's path
 *
 * Environment: KNE_IMAGES_CACHE (default /var/cache/kne-images), SOURCE_DATE_EPOCH (default
 * 0: every mtime and the `created` time).
 */
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuiltImage, ImageBuilder } from "./image-build.ts";
import { listImageNames } from "./image-spec.ts";
import { unpackImageArchive } from "./oci-unpack.ts";

const workspaceRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const imagesDir = join(workspaceRoot, "deploy", "images");
const cacheRoot = process.env.KNE_IMAGES_CACHE || "/var/cache/kne-images";

function mtime(): number {
  const raw = process.env.SOURCE_DATE_EPOCH ?? "0";
  if (!/^\d+$/.test(raw)) throw new Error(`SOURCE_DATE_EPOCH=${raw}: expected whole seconds since the epoch`);
  return Number(raw);
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

async function buildAll(names: string[], root: string, debCache: string | undefined): Promise<Array<BuiltImage & { cached: boolean; seconds: number }>> {
  const builder = new ImageBuilder({
    workspaceRoot,
    imagesDir,
    cacheRoot: root,
    ...(debCache ? { debCache } : {}),
    mtime: mtime(),
    log: (m) => process.stderr.write(`images: ${m}\n`),
  });
  const built: Array<BuiltImage & { cached: boolean; seconds: number }> = [];
  for (const name of names) {
    const started = performance.now();
    const image = await builder.build(name);
    built.push({ ...image, seconds: (performance.now() - started) / 1000 });
  }
  return built;
}

/** The list other scripts read: JSON (everything) and TSV (name, ref, digest, size, archive). */
async function writeLists(built: readonly BuiltImage[]): Promise<string> {
  await mkdir(cacheRoot, { recursive: true });
  const json = join(cacheRoot, "images.json");
  const records = built.map(({ name, ref, tag, digest, size, unpackedSize, file, vendor, app, user }) => ({ name, ref, tag, digest, size, unpackedSize, file, vendor, app, user }));
  await writeFile(`${json}.${process.pid}`, JSON.stringify({ images: records }, null, 2) + "\n");
  await rename(`${json}.${process.pid}`, json);
  const tsv = ["# name\tref\tdigest\tsize\tarchive", ...built.map((b) => `${b.name}\t${b.ref}\t${b.digest}\t${b.size}\t${b.file}`)].join("\n") + "\n";
  await writeFile(join(cacheRoot, "images.tsv"), tsv);
  return json;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "list") {
    console.log(join(cacheRoot, "images.json"));
    return 0;
  }
  if (command === "unpack") {
    const [archive, dir] = rest;
    if (!archive || !dir) throw new Error("usage: unpack ARCHIVE DIR");
    const { manifestDigest } = await unpackImageArchive(archive, dir);
    console.log(`unpacked ${archive} (${manifestDigest}) onto ${dir}`);
    return 0;
  }
  if (command !== "build") {
    process.stderr.write("usage: main.ts build [NAME...] [--check-reproducible] | unpack ARCHIVE DIR | list\n");
    return 2;
  }
  const check = rest.includes("--check-reproducible");
  const all = listImageNames(imagesDir);
  const names = rest.filter((a) => !a.startsWith("--"));
  for (const n of names) if (!all.includes(n)) throw new Error(`no image "${n}" under deploy/images (there: ${all.join(", ")})`);
  const wanted = names.length > 0 ? names : all;

  const started = performance.now();
  const built = await buildAll(wanted, cacheRoot, undefined);
  const seconds = (performance.now() - started) / 1000;
  // The list names every image of the last full build; a partial build updates its entries.
  const listed = names.length > 0 ? await mergeWithPrevious(built) : built;
  const listFile = await writeLists(listed);

  console.log(["IMAGE", "REF", "DIGEST", "COMPRESSED MB", "UNPACKED MB", "BUILD"].join("\t"));
  for (const b of built) {
    console.log([b.name, b.ref, b.digest.slice(0, 19), mb(b.size), mb(b.unpackedSize), b.cached ? "cached" : `${b.seconds.toFixed(1)} s`].join("\t"));
  }
  const fresh = built.filter((b) => !b.cached).length;
  console.log(`images: ${built.length} images (${fresh} built, ${built.length - fresh} from the cache) in ${seconds.toFixed(1)} s; list: ${listFile}`);

  if (check) {
    // From nothing again: a fresh cache (only the downloaded .debs are shared: they are inputs).
    const scratch = await mkdtemp(join(cacheRoot, "reproduce-"));
    try {
      const again = await buildAll(wanted, scratch, join(cacheRoot, "debs"));
      let differ = 0;
      for (const [i, b] of built.entries()) {
        if (again[i]!.tag !== b.tag) throw new Error(`${b.name}: the inputs changed during the check (tag ${b.tag}, then ${again[i]!.tag}); run it again`);
        const same = again[i]!.digest === b.digest;
        if (!same) differ++;
        console.log(`reproducible: ${b.name} ${b.digest} ${same ? "==" : "!="} ${again[i]!.digest}`);
      }
      if (differ > 0) {
        console.log(`reproducible: ${differ} image(s) differ between two builds of the same inputs`);
        return 1;
      }
      console.log(`reproducible: all ${built.length} images have the same manifest digest when built again from nothing`);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  return 0;
}

async function mergeWithPrevious(built: readonly BuiltImage[]): Promise<BuiltImage[]> {
  let previous: BuiltImage[] = [];
  try {
    previous = (JSON.parse(await readFile(join(cacheRoot, "images.json"), "utf8")) as { images: BuiltImage[] }).images;
  } catch {
    previous = [];
  }
  const byName = new Map(previous.map((p) => [p.name, p]));
  for (const b of built) byName.set(b.name, b);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`images: error: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
