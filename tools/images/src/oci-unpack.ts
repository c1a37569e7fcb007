/**
 * Unpacks an OCI image layout archive into a root file system without a container runtime:
 * the archive's index names the manifest, whose layers are applied in order (whiteouts
 * included). Used to run a built image's programs under chroot, and by the tests.
 */
import { createReadStream } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extractTarStream, unpackLayer } from "./tar-reader.ts";

interface IndexJson {
  manifests?: Array<{ digest: string; mediaType?: string }>;
}
interface ManifestJson {
  config: { digest: string };
  layers: Array<{ digest: string; mediaType: string }>;
}

function blobPath(dir: string, digest: string): string {
  const [algorithm, hex] = digest.split(":");
  if (algorithm !== "sha256" || !/^[0-9a-f]{64}$/.test(hex ?? "")) throw new Error(`unexpected digest ${digest}`);
  return join(dir, "blobs", "sha256", hex!);
}

/** The image config of an archive, and its root file system unpacked onto `root`. */
export async function unpackImageArchive(archive: string, root: string): Promise<{ config: Record<string, unknown>; manifestDigest: string }> {
  const layout = await mkdtemp(join(tmpdir(), "kne-oci-"));
  try {
    await extractTarStream(createReadStream(archive, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, layout);
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as IndexJson;
    const entry = index.manifests?.[0];
    if (!entry || index.manifests!.length !== 1) throw new Error(`${archive}: index.json should name exactly one manifest`);
    const manifest = JSON.parse(await readFile(blobPath(layout, entry.digest), "utf8")) as ManifestJson;
    // Layers carry no entry for / itself; a root file system's top is 0755 (a temporary
    // directory's 0700 would lock out the image's non-root users).
    await mkdir(root, { recursive: true });
    await chmod(root, 0o755);
    for (const layer of manifest.layers) {
      if (!layer.mediaType.endsWith("tar+gzip") && !layer.mediaType.endsWith(".tar")) throw new Error(`${archive}: layer ${layer.digest} is ${layer.mediaType}`);
      await unpackLayer(blobPath(layout, layer.digest), root, layer.mediaType.endsWith("gzip"));
    }
    const config = JSON.parse(await readFile(blobPath(layout, manifest.config.digest), "utf8")) as Record<string, unknown>;
    return { config, manifestDigest: entry.digest };
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}
