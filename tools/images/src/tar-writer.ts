/**
 * A deterministic tar writer: the same tree gives the same bytes on any machine, whatever
 * the files' owners, times or the order the file system lists them in. Entries are sorted
 * by path (bytes), every mtime is one fixed time, owners are numeric (names left empty),
 * and headers carry nothing from the host (no atime/ctime, no user names, no device
 * numbers). Paths that do not fit ustar's name/prefix fields get a PAX `path`/`linkpath`
 * record; hard links within one archive become link entries to the first path seen.
 */
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

const BLOCK = 512;

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink";

export interface TarEntry {
  /** Path inside the archive, relative, `/`-separated, no trailing slash. */
  path: string;
  type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (file type bits are ignored). */
  mode: number;
  uid: number;
  gid: number;
  /** For files: the size and where to read the bytes from (or the bytes themselves). */
  size?: number;
  source?: string;
  data?: Uint8Array;
  /** For symlinks and hard links: the target. */
  linkTarget?: string;
}

/** Owner and mode changes for paths of the tree (e.g. a writable home for a non-root user). */
export interface OwnerOverride {
  uid: number;
  gid: number;
  mode?: number;
}

/** Ordering by the path's UTF-8 bytes, so that it does not depend on locale or platform. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * Every entry of a directory tree, sorted, owned by root unless `overrides` says otherwise.
 * Sockets, fifos and device nodes are refused: nothing an image is built from has them.
 */
export async function collectTree(root: string, overrides: ReadonlyMap<string, OwnerOverride> = new Map()): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const firstPathOfInode = new Map<string, string>();
  async function walk(dir: string, rel: string): Promise<void> {
    const names = (await readdir(dir)).sort(comparePaths);
    for (const name of names) {
      const abs = join(dir, name);
      const path = rel === "" ? name : `${rel}/${name}`;
      const st = await lstat(abs);
      const override = overrides.get(path);
      const owner = { uid: override?.uid ?? 0, gid: override?.gid ?? 0 };
      const mode = override?.mode ?? st.mode & 0o7777;
      if (st.isDirectory()) {
        entries.push({ path, type: "directory", mode, ...owner });
        await walk(abs, path);
      } else if (st.isSymbolicLink()) {
        entries.push({ path, type: "symlink", mode: 0o777, ...owner, linkTarget: await readlink(abs) });
      } else if (st.isFile()) {
        const inode = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? firstPathOfInode.get(inode) : undefined;
        if (first !== undefined) {
          entries.push({ path, type: "hardlink", mode, ...owner, linkTarget: first });
        } else {
          if (st.nlink > 1) firstPathOfInode.set(inode, path);
          entries.push({ path, type: "file", mode, ...owner, size: st.size, source: abs });
        }
      } else {
        throw new Error(`${abs}: not a file, directory or symlink; an image layer cannot carry it`);
      }
    }
  }
  await walk(root, "");
  return entries;
}

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit a ${width}-byte field`);
  return digits.padStart(width - 1, "0") + "\0";
}

function putString(buf: Buffer, offset: number, width: number, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > width) throw new Error(`tar: "${value}" does not fit a ${width}-byte field`);
  bytes.copy(buf, offset);
}

/** Splits a path into ustar's prefix (155) and name (100), or undefined when it cannot. */
function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: "", name: path };
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== "") return { prefix, name };
  }
  return undefined;
}

const typeFlags: Record<TarEntryType | "pax", string> = { file: "0", hardlink: "1", symlink: "2", directory: "5", pax: "x" };

function header(fields: { name: string; prefix: string; mode: number; uid: number; gid: number; size: number; mtime: number; type: string; linkname: string }): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  putString(h, 0, 100, fields.name);
  putString(h, 100, 8, octal(fields.mode, 8));
  putString(h, 108, 8, octal(fields.uid, 8));
  putString(h, 116, 8, octal(fields.gid, 8));
  putString(h, 124, 12, octal(fields.size, 12));
  putString(h, 136, 12, octal(fields.mtime, 12));
  h.fill(" ", 148, 156); // checksum is computed with its own field as spaces
  putString(h, 156, 1, fields.type);
  putString(h, 157, 100, fields.linkname);
  putString(h, 257, 6, "ustar\0");
  putString(h, 263, 2, "00");
  // uname/gname stay empty: numeric owners only. devmajor/devminor stay zero.
  putString(h, 345, 155, fields.prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  putString(h, 148, 8, octal(sum, 7) + " ");
  return h;
}

function paxRecord(key: string, value: string): string {
  // "<len> <key>=<value>\n" where len counts itself
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest, 0);
}

/** Sink of the archive's bytes; `write` may return a promise to apply back-pressure. */
export type TarSink = (chunk: Buffer) => void | Promise<void>;

/** Writes the entries, in the order given, then the two zero blocks that end an archive. */
export async function writeTar(entries: readonly TarEntry[], sink: TarSink, mtime: number): Promise<void> {
  for (const entry of entries) {
    const path = entry.type === "directory" ? `${entry.path}/` : entry.path;
    const link = entry.linkTarget ?? "";
    const split = splitUstarPath(path);
    const linkFits = Buffer.byteLength(link) <= 100;
    if (split === undefined || !linkFits) {
      const records = (split === undefined ? paxRecord("path", path) : "") + (linkFits ? "" : paxRecord("linkpath", link));
      const body = Buffer.from(records, "utf8");
      // The PAX header's own name is fixed, so that it says nothing about the host.
      await sink(header({ name: "PaxHeader", prefix: "", mode: 0o644, uid: 0, gid: 0, size: body.length, mtime, type: typeFlags.pax, linkname: "" }));
      await sink(body);
      await sink(padding(body.length));
    }
    const size = entry.type === "file" ? (entry.data?.length ?? entry.size ?? 0) : 0;
    const names = split ?? { prefix: "", name: path.slice(0, 100) };
    await sink(
      header({
        name: names.name,
        prefix: names.prefix,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        size,
        mtime,
        type: typeFlags[entry.type],
        linkname: linkFits ? link : link.slice(0, 100),
      }),
    );
    if (entry.type !== "file") continue;
    if (entry.data) {
      await sink(Buffer.from(entry.data));
    } else if (entry.source) {
      let read = 0;
      for await (const chunk of createReadStream(entry.source, { highWaterMark: 1 << 20 })) {
        read += (chunk as Buffer).length;
        await sink(chunk as Buffer);
      }
      if (read !== size) throw new Error(`${entry.source} changed while it was archived (${read} bytes read, ${size} expected)`);
    }
    await sink(padding(size));
  }
  await sink(Buffer.alloc(BLOCK * 2, 0));
}
