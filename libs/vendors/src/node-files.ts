/**
 * Files of a node under its `nodeDir`: atomic writes (a daemon that restarts mid-write
 * reads the old or the new file, never half of one), socket path checks, and ownership for
 * daemons that drop privileges.
 */
import { constants } from "node:fs";
import { access, chmod, chown, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { LocalPreconditionError } from "./errors";

/** Longest UNIX socket path Linux accepts (sun_path is 108 bytes with the terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Writes a file through a temporary name and a rename. */
let tmpCounter = 0;

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${process.pid}.${(tmpCounter++).toString(36)}.tmp`);
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/** The file's contents, or undefined when it does not exist. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

export interface DirectoryOptions {
  mode?: number;
  owner?: SystemUser;
}

/** Creates a directory (and parents) and sets its mode and owner. */
export async function ensureDirectory(path: string, options: DirectoryOptions = {}): Promise<void> {
  await mkdir(path, { recursive: true });
  if (options.mode !== undefined) await chmod(path, options.mode);
  if (options.owner) await chown(path, options.owner.uid, options.owner.gid);
}

/** Throws when `nodeDir` is not an absolute path to an existing directory. */
export async function checkNodeDir(nodeDir: string): Promise<void> {
  if (!isAbsolute(nodeDir)) throw new LocalPreconditionError(`nodeDir must be an absolute path, got "${nodeDir}"`);
  const s = await stat(nodeDir).catch(() => undefined);
  if (!s?.isDirectory()) throw new LocalPreconditionError(`nodeDir ${nodeDir} does not exist or is not a directory`);
}

/** Throws a clear error when a UNIX socket path is too long for the kernel. */
export function checkSocketPath(path: string, node: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new LocalPreconditionError(
      `node ${node}: socket path ${path} is ${bytes} bytes, more than the ${MAX_SOCKET_PATH_BYTES} a UNIX socket allows; ` +
        `use a shorter node directory`,
    );
  }
}

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** Looks a user up in /etc/passwd (Node has no getpwnam). */
export async function lookupSystemUser(name: string): Promise<SystemUser | undefined> {
  const passwd = await readFile("/etc/passwd", "utf8").catch(() => "");
  for (const line of passwd.split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * Makes sure an unprivileged daemon can reach `dir`: every ancestor must be searchable
 * by others. The node's own directory is ours to open for traversal (search only, no
 * listing); an ancestor that is not searchable is the backend's choice, so that is an error.
 */
export async function ensureTraversable(dir: string, nodeDir: string, who: string): Promise<void> {
  const root = resolve(nodeDir);
  let current = resolve(dir);
  for (;;) {
    const s = await stat(current);
    if ((s.mode & 0o001) === 0) {
      if (current === root || current.startsWith(`${root}/`)) {
        await chmod(current, (s.mode & 0o7777) | 0o001);
      } else {
        throw new LocalPreconditionError(
          `${current} is not searchable by other users, so ${who} (which drops root privileges) cannot reach ${dir}`,
        );
      }
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/** Whether a file exists and is executable by us. */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable: an absolute path as is, a bare name on PATH. */
export async function findExecutable(command: string, path = process.env.PATH ?? ""): Promise<string | undefined> {
  if (command.includes("/")) return (await isExecutable(command)) ? command : undefined;
  for (const dir of path.split(":")) {
    if (dir === "") continue;
    const candidate = join(dir, command);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Fails naming the first of a node's programs that is not installed, and its Debian package. */
export async function requireExecutables(node: string, binaries: Iterable<string>, debianPackage: string): Promise<void> {
  for (const binary of binaries) {
    if (!(await findExecutable(binary))) {
      throw new LocalPreconditionError(`node ${node} needs ${binary}, which is not installed (Debian package ${debianPackage})`);
    }
  }
}
