/**
 * OCI image pieces written by hand: gzip-compressed layer blobs from tar entries, the image
 * config, the manifest, and an OCI image layout archive (`oci-layout`, `index.json`,
 * `blobs/sha256/...`) that `ctr images import` and other OCI tools read. Every JSON document
 * is built with a fixed key order and no timestamps but the fixed one, so equal inputs give
 * equal digests.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, stat } from "node:fs/promises";
import { once } from "node:events";
import { createGzip } from "node:zlib";
import { type TarEntry, writeTar } from "./tar-writer.ts";

export const mediaTypes = {
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  config: "application/vnd.oci.image.config.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
} as const;

export interface LayerBlob {
  /** sha256 of the compressed blob. */
  digest: string;
  /** sha256 of the uncompressed tar (the config's diff_id). */
  diffId: string;
  size: number;
  unpackedSize: number;
}

/** Writes entries as a gzip-compressed tar to `file` (via a temporary file), with both digests. */
export async function writeLayerBlob(entries: readonly TarEntry[], mtime: number, file: string): Promise<LayerBlob> {
  const tmp = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  // zlib writes no name and a zero mtime in the gzip header: the bytes depend only on the input.
  const gzip = createGzip({ level: 9 });
  const diff = createHash("sha256");
  const compressed = createHash("sha256");
  let unpackedSize = 0;
  let size = 0;
  gzip.on("data", (chunk: Buffer) => {
    compressed.update(chunk);
    size += chunk.length;
  });
  gzip.pipe(out);
  await writeTar(
    entries,
    async (chunk) => {
      diff.update(chunk);
      unpackedSize += chunk.length;
      if (!gzip.write(chunk)) await once(gzip, "drain");
    },
    mtime,
  );
  gzip.end();
  await once(out, "close");
  await rename(tmp, file);
  return { digest: `sha256:${compressed.digest("hex")}`, diffId: `sha256:${diff.digest("hex")}`, size, unpackedSize };
}

export interface ImageConfigInput {
  created: string;
  user: string;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  labels: Record<string, string>;
  layers: Array<LayerBlob & { createdBy: string }>;
}

function sortedObject(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
}

/** The image config (architecture, runtime settings, diff ids, history) as bytes. */
export function imageConfig(input: ImageConfigInput): Buffer {
  const config: Record<string, unknown> = { User: input.user, Env: input.env };
  if (input.entrypoint.length > 0) config.Entrypoint = input.entrypoint;
  if (input.cmd.length > 0) config.Cmd = input.cmd;
  config.WorkingDir = input.workingDir;
  config.Labels = sortedObject(input.labels);
  return Buffer.from(
    JSON.stringify({
      created: input.created,
      architecture: "amd64",
      os: "linux",
      config,
      rootfs: { type: "layers", diff_ids: input.layers.map((l) => l.diffId) },
      history: input.layers.map((l) => ({ created: input.created, created_by: l.createdBy })),
    }),
  );
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export function manifest(config: Descriptor, layers: readonly Descriptor[], annotations: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.manifest,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      annotations: sortedObject(annotations),
    }),
  );
}

/**
 * The OCI image layout archive of one image, named `ref` (containerd takes the name from
 * `io.containerd.image.name`, other tools from `org.opencontainers.image.ref.name`).
 */
export async function writeImageLayout(
  file: string,
  ref: string,
  configBytes: Buffer,
  manifestBytes: Buffer,
  layerFiles: ReadonlyArray<{ digest: string; file: string; size: number }>,
  mtime: number,
): Promise<{ manifestDigest: string; size: number }> {
  const manifestDigest = digestOf(manifestBytes);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.index,
      manifests: [
        {
          mediaType: mediaTypes.manifest,
          digest: manifestDigest,
          size: manifestBytes.length,
          annotations: { "io.containerd.image.name": ref, "org.opencontainers.image.ref.name": ref },
        },
      ],
    }),
  );
  const blobs = new Map<string, TarEntry>();
  const blob = (digest: string, e: Omit<TarEntry, "path" | "type" | "mode" | "uid" | "gid">): void => {
    const path = `blobs/sha256/${digest.slice("sha256:".length)}`;
    blobs.set(path, { path, type: "file", mode: 0o644, uid: 0, gid: 0, ...e });
  };
  blob(digestOf(configBytes), { data: configBytes });
  blob(manifestDigest, { data: manifestBytes });
  for (const l of layerFiles) blob(l.digest, { source: l.file, size: l.size });
  const entries: TarEntry[] = [
    { path: "blobs", type: "directory", mode: 0o755, uid: 0, gid: 0 },
    { path: "blobs/sha256", type: "directory", mode: 0o755, uid: 0, gid: 0 },
    ...[...blobs.keys()].sort().map((k) => blobs.get(k)!),
    { path: "index.json", type: "file", mode: 0o644, uid: 0, gid: 0, data: index },
    { path: "oci-layout", type: "file", mode: 0o644, uid: 0, gid: 0, data: Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })) },
  ];
  const tmp = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  await writeTar(
    entries,
    async (chunk) => {
      if (!out.write(chunk)) await once(out, "drain");
    },
    mtime,
  );
  out.end();
  await once(out, "close");
  await rename(tmp, file);
  return { manifestDigest, size: (await stat(file)).size };
}
