/**
 * A tar reader: enough of ustar, PAX and GNU long names to read image layers and OCI layout
 * archives, and to unpack layers onto a directory the way a container runtime stacks them
 * (OCI whiteouts: `.wh.NAME` deletes NAME, `.wh..wh..opq` empties its directory).
 * Paths that would leave the target — absolute, `..`, or through a symlink — are refused.
 */
import { createReadStream } from "node:fs";
import { chmod, lchown, link, lstat, mkdir, open, readdir, rm, symlink } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { createGunzip } from "node:zlib";

export interface TarHeader {
  path: string;
  type: "file" | "directory" | "symlink" | "hardlink" | "other";
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkTarget: string;
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private readonly iterator: AsyncIterator<Buffer>;
  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }
  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.length < n) {
      const next = await this.iterator.next();
      if (next.done) break;
      this.buffered.push(next.value);
      this.length += next.value.length;
    }
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }
  /** Reads and drops the rest of the stream (tar pads its output to whole records). */
  async drain(): Promise<void> {
    this.buffered = [];
    this.length = 0;
    for (let next = await this.iterator.next(); !next.done; next = await this.iterator.next());
  }
}

function field(h: Buffer, offset: number, width: number): string {
  const raw = h.subarray(offset, offset + width);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? width : end).toString("utf8");
}

function number(h: Buffer, offset: number, width: number): number {
  const text = field(h, offset, width).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function parsePax(body: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const len = parseInt(body.subarray(at, space).toString("utf8"), 10);
    if (!Number.isFinite(len) || len <= 0) throw new Error("tar: malformed PAX record");
    const record = body.subarray(space + 1, at + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    records.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return records;
}

/** Calls `onEntry` for each entry; `content` yields the entry's bytes (read it or not). */
export async function readTar(
  source: AsyncIterable<Buffer>,
  onEntry: (header: TarHeader, content: () => Promise<Buffer>, stream: (sink: (chunk: Buffer) => Promise<void>) => Promise<void>) => Promise<void>,
): Promise<void> {
  const reader = new ByteReader(source);
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await reader.read(512);
    if (h.length < 512 || h.every((b) => b === 0)) return reader.drain();
    const size = number(h, 124, 12);
    const flag = String.fromCharCode(h[156] ?? 0x30);
    const padded = Math.ceil(size / 512) * 512;
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      const body = (await reader.read(padded)).subarray(0, size);
      if (flag === "x") pax = parsePax(body);
      if (flag === "L") longName = field(body, 0, body.length);
      if (flag === "K") longLink = field(body, 0, body.length);
      continue;
    }
    const prefix = field(h, 345, 155);
    const name = field(h, 0, 100);
    const path = pax.get("path") ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const linkTarget = pax.get("linkpath") ?? longLink ?? field(h, 157, 100);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    const type = flag === "0" || flag === "\0" || flag === "7" ? "file" : flag === "5" ? "directory" : flag === "2" ? "symlink" : flag === "1" ? "hardlink" : "other";
    let consumed = false;
    const content = async (): Promise<Buffer> => {
      consumed = true;
      return (await reader.read(padded)).subarray(0, size);
    };
    const stream = async (sink: (chunk: Buffer) => Promise<void>): Promise<void> => {
      consumed = true;
      let left = size;
      while (left > 0) {
        const chunk = await reader.read(Math.min(left, 1 << 20));
        if (chunk.length === 0) throw new Error(`tar: ${path} is cut short`);
        left -= chunk.length;
        await sink(chunk);
      }
      await reader.read(padded - size);
    };
    await onEntry(
      { path: path.replace(/^\.\//, "").replace(/\/$/, ""), type, mode: number(h, 100, 8), uid: number(h, 108, 8), gid: number(h, 116, 8), size, linkTarget },
      content,
      stream,
    );
    if (!consumed) await reader.read(padded);
  }
}

/** The entry's path checked and joined to root; never outside it, never through a symlink. */
async function safeTarget(root: string, path: string): Promise<string> {
  const normal = posix.normalize(path);
  if (normal.startsWith("/") || normal === ".." || normal.startsWith("../")) throw new Error(`tar: entry ${path} leaves the target directory`);
  const parts = normal.split("/");
  let at = root;
  for (const part of parts.slice(0, -1)) {
    at = join(at, part);
    const st = await lstat(at).catch(() => undefined);
    if (st?.isSymbolicLink()) throw new Error(`tar: entry ${path} goes through the symlink ${at}`);
  }
  return join(root, normal);
}

/** Unpacks one (gzip-compressed when `gzip`) layer onto `root`, applying whiteouts. */
export async function unpackLayer(file: string, root: string, gzip: boolean): Promise<void> {
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  await extractTarStream((gzip ? input.pipe(createGunzip()) : input) as AsyncIterable<Buffer>, root);
}

/**
 * Unpacks a tar stream onto `root`; `mapPath` may move entries (and hard-link targets)
 * elsewhere, as merged /usr does for Debian packages.
 */
export async function extractTarStream(source: AsyncIterable<Buffer>, root: string, mapPath: (path: string) => string = (p) => p): Promise<void> {
  const directoryModes: Array<[string, number]> = [];
  // Owners only as root (a user cannot give files away); modes always.
  const asRoot = process.getuid?.() === 0;
  await readTar(source, async (raw, _content, stream) => {
    const h = { ...raw, path: mapPath(raw.path), linkTarget: raw.type === "hardlink" ? mapPath(raw.linkTarget) : raw.linkTarget };
    if (h.path === "" || h.path === ".") return;
    const base = posix.basename(h.path);
    if (base === ".wh..wh..opq") {
      const dir = await safeTarget(root, posix.dirname(h.path));
      for (const name of await readdir(dir).catch(() => [] as string[])) await rm(join(dir, name), { recursive: true, force: true });
      return;
    }
    if (base.startsWith(".wh.")) {
      await rm(await safeTarget(root, posix.join(posix.dirname(h.path), base.slice(4))), { recursive: true, force: true });
      return;
    }
    const target = await safeTarget(root, h.path);
    await mkdir(dirname(target), { recursive: true });
    const existing = await lstat(target).catch(() => undefined);
    if (existing && !(existing.isDirectory() && h.type === "directory")) await rm(target, { recursive: true, force: true });
    switch (h.type) {
      case "directory":
        await mkdir(target, { recursive: true });
        if (asRoot) await lchown(target, h.uid, h.gid);
        // Applied at the end: a read-only directory must still take its entries first.
        directoryModes.push([target, h.mode]);
        return;
      case "symlink":
        await symlink(h.linkTarget, target);
        if (asRoot) await lchown(target, h.uid, h.gid);
        return;
      case "hardlink":
        await link(await safeTarget(root, h.linkTarget), target);
        return;
      case "file": {
        const handle = await open(target, "w", 0o600);
        try {
          await stream(async (chunk) => {
            await handle.write(chunk);
          });
        } finally {
          await handle.close();
        }
        // Owner first: chown clears setuid/setgid bits, chmod puts them back.
        if (asRoot) await lchown(target, h.uid, h.gid);
        await chmod(target, h.mode & 0o7777);
        return;
      }
      default:
        throw new Error(`tar: entry ${h.path} is of a kind images here never carry`);
    }
  });
  for (const [dir, mode] of directoryModes.reverse()) await chmod(dir, mode & 0o7777);
}
