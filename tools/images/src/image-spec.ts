/**
 * The image definitions under deploy/images: one folder per image with its `image.json`
 * (and `files/`, copied into the image as they are), and shared package layers in
 * `layers/<name>.json`. Loaded, checked field by field (errors name the file and the field),
 * and frozen before anything is built.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export interface SharedLayerSpec {
  name: string;
  file: string;
  description: string;
  packages: string[];
  /** Only in the first layer: packages resolution treats as present. */
  assumeInstalled: string[];
}

export interface UserSpec {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** Supplementary groups (by name); each must be the primary group of a user or listed in `groups`. */
  groups: string[];
}

export interface DirectorySpec {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface ImageSpec {
  name: string;
  dir: string;
  file: string;
  description: string;
  /** Vendor whose pods run this image (HOST, FRR, ...), for the list file. */
  vendor?: string;
  /** Shared package layers, bottom first. */
  layers: string[];
  packages: string[];
  /** The app whose bundle and runtime dependencies the image carries, with Node. */
  app?: string;
  /** The user the image runs as (`0` = root). */
  user: number;
  users: UserSpec[];
  groups: Array<{ name: string; gid: number }>;
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  workingDir: string;
  symlinks: Record<string, string>;
  directories: DirectorySpec[];
  busyboxApplets: boolean;
  prune: string[];
  /** Absolute path of `files/` when the folder has one. */
  filesDir?: string;
}

export class SpecError extends Error {
  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`);
  }
}

const packageName = /^[a-z0-9][a-z0-9+.-]+$/;
const imageName = /^[a-z0-9][a-z0-9-]*$/;
const userName = /^[a-z_][a-z0-9_-]*$/;
const imagePath = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._+@/-]+$/;
const imageGlob = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._+@/*?-]+$/;

type Json = Record<string, unknown>;

/**
 * A spec file's path as errors and the image history show it: relative to the workspace
 * (deploy/images is two levels down), never to the current directory, which would make
 * the image's config depend on where the build was started.
 */
function shownPath(imagesDir: string, file: string): string {
  return relative(resolve(imagesDir, "..", ".."), file);
}

function readJson(file: string, shown: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new SpecError(shown, "(file)", `not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new SpecError(shown, "(file)", "expected a JSON object");
  return value as Json;
}

function checkKeys(obj: Json, allowed: readonly string[], file: string, at: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new SpecError(file, at ? `${at}.${key}` : key, `unknown field (known: ${allowed.join(", ")})`);
  }
}

function str(obj: Json, key: string, file: string, at = ""): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "") throw new SpecError(file, at + key, "expected a non-empty string");
  return v;
}

function strList(obj: Json, key: string, file: string, pattern?: RegExp, what = "string", at = ""): string[] {
  const v = obj[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new SpecError(file, at + key, "expected a list of strings");
  return v.map((item, i) => {
    if (typeof item !== "string" || item === "" || (pattern && !pattern.test(item))) throw new SpecError(file, `${at}${key}[${i}]`, `expected a ${what}, got ${JSON.stringify(item)}`);
    return item;
  });
}

function int(v: unknown, file: string, field: string, max = 2 ** 31 - 1): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) throw new SpecError(file, field, `expected an integer 0..${max}, got ${JSON.stringify(v)}`);
  return v;
}

export function loadSharedLayer(imagesDir: string, name: string, first: boolean): SharedLayerSpec {
  const file = join(imagesDir, "layers", `${name}.json`);
  const shown = shownPath(imagesDir, file);
  if (!existsSync(file)) throw new SpecError(shown, "(file)", `no such shared layer "${name}"`);
  const obj = readJson(file, shown);
  checkKeys(obj, ["description", "packages", "assumeInstalled"], shown, "");
  let assumeInstalled: string[] = [];
  if (obj.assumeInstalled !== undefined) {
    if (!first) throw new SpecError(shown, "assumeInstalled", "only the bottom layer may declare packages present");
    const a = obj.assumeInstalled as Json;
    checkKeys(a, ["why", "packages"], shown, "assumeInstalled");
    if (!str(a, "why", shown, "assumeInstalled.")) throw new SpecError(shown, "assumeInstalled.why", "say why these packages may stay out");
    assumeInstalled = strList(a, "packages", shown, packageName, "Debian package name", "assumeInstalled.");
  }
  return {
    name,
    file: shown,
    description: str(obj, "description", shown) ?? "",
    packages: strList(obj, "packages", shown, packageName, "Debian package name"),
    assumeInstalled,
  };
}

export function loadImageSpec(imagesDir: string, name: string): ImageSpec {
  const dir = join(imagesDir, name);
  const file = join(dir, "image.json");
  const shown = shownPath(imagesDir, file);
  if (!imageName.test(name)) throw new SpecError(shown, "(name)", `image names are lower-case letters, digits and dashes`);
  if (!existsSync(file)) throw new SpecError(shown, "(file)", "missing");
  const obj = readJson(file, shown);
  checkKeys(
    obj,
    ["description", "vendor", "layers", "packages", "app", "user", "users", "groups", "entrypoint", "cmd", "env", "workingDir", "symlinks", "directories", "busyboxApplets", "prune"],
    shown,
    "",
  );
  const description = str(obj, "description", shown);
  if (!description) throw new SpecError(shown, "description", "required: say what the image is for");
  const layers = strList(obj, "layers", shown, imageName, "shared layer name");
  if (layers.length === 0) throw new SpecError(shown, "layers", "name at least the bottom layer (debian-base)");

  const users: UserSpec[] = [];
  const rawUsers = obj.users ?? [];
  if (!Array.isArray(rawUsers)) throw new SpecError(shown, "users", "expected a list");
  rawUsers.forEach((u: unknown, i) => {
    const at = `users[${i}]`;
    if (typeof u !== "object" || u === null) throw new SpecError(shown, at, "expected an object");
    const o = u as Json;
    checkKeys(o, ["name", "uid", "gid", "home", "groups"], shown, at);
    const name = str(o, "name", shown, `${at}.`);
    if (!name || !userName.test(name)) throw new SpecError(shown, `${at}.name`, "expected a user name");
    const uid = int(o.uid, shown, `${at}.uid`, 65534);
    if (uid === 0) throw new SpecError(shown, `${at}.uid`, "root is always there");
    users.push({ name, uid, gid: int(o.gid, shown, `${at}.gid`, 65534), home: str(o, "home", shown, `${at}.`) ?? "/nonexistent", groups: strList(o, "groups", shown, userName, "group name", `${at}.`) });
  });
  const groups: Array<{ name: string; gid: number }> = [];
  const rawGroups = obj.groups ?? [];
  if (!Array.isArray(rawGroups)) throw new SpecError(shown, "groups", "expected a list");
  rawGroups.forEach((g: unknown, i) => {
    const o = g as Json;
    checkKeys(o, ["name", "gid"], shown, `groups[${i}]`);
    const name = str(o, "name", shown, `groups[${i}].`);
    if (!name || !userName.test(name)) throw new SpecError(shown, `groups[${i}].name`, "expected a group name");
    groups.push({ name, gid: int(o.gid, shown, `groups[${i}].gid`, 65534) });
  });
  const groupNames = new Set([...users.map((u) => u.name), ...groups.map((g) => g.name)]);
  users.forEach((u, i) =>
    u.groups.forEach((g, j) => {
      if (!groupNames.has(g)) throw new SpecError(shown, `users[${i}].groups[${j}]`, `group "${g}" is defined nowhere (users' primary groups and groups[])`);
    }),
  );

  let user = 0;
  if (obj.user !== undefined) {
    if (typeof obj.user === "number") user = int(obj.user, shown, "user", 65534);
    else {
      const named = users.find((u) => u.name === obj.user);
      if (!named) throw new SpecError(shown, "user", `no user named ${JSON.stringify(obj.user)} in users[]`);
      user = named.uid;
    }
  }

  const env: Record<string, string> = {};
  if (obj.env !== undefined) {
    if (typeof obj.env !== "object" || obj.env === null) throw new SpecError(shown, "env", "expected an object of strings");
    for (const [k, v] of Object.entries(obj.env as Json)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== "string") throw new SpecError(shown, `env.${k}`, "expected NAME: \"value\"");
      env[k] = v;
    }
  }
  const symlinks: Record<string, string> = {};
  if (obj.symlinks !== undefined) {
    for (const [k, v] of Object.entries(obj.symlinks as Json)) {
      if (!imagePath.test(k) || typeof v !== "string" || v === "") throw new SpecError(shown, `symlinks.${k}`, "expected \"path/in/image\": \"target\" (relative path, no ..)");
      symlinks[k] = v;
    }
  }
  const directories: DirectorySpec[] = [];
  const rawDirs = obj.directories ?? [];
  if (!Array.isArray(rawDirs)) throw new SpecError(shown, "directories", "expected a list");
  rawDirs.forEach((d: unknown, i) => {
    const o = d as Json;
    const at = `directories[${i}]`;
    checkKeys(o, ["path", "mode", "owner"], shown, at);
    const path = str(o, "path", shown, `${at}.`);
    if (!path || !imagePath.test(path)) throw new SpecError(shown, `${at}.path`, "expected a relative path inside the image");
    const mode = str(o, "mode", shown, `${at}.`) ?? "0755";
    if (!/^0[0-7]{3,4}$/.test(mode)) throw new SpecError(shown, `${at}.mode`, "expected an octal mode such as \"0755\"");
    const owner = str(o, "owner", shown, `${at}.`) ?? "root";
    const ownerUser = owner === "root" ? { uid: 0, gid: 0 } : users.find((u) => u.name === owner);
    if (!ownerUser) throw new SpecError(shown, `${at}.owner`, `no user named "${owner}" in users[]`);
    directories.push({ path, mode: parseInt(mode, 8), uid: ownerUser.uid, gid: ownerUser.gid });
  });
  const busybox = obj.busyboxApplets ?? false;
  if (typeof busybox !== "boolean") throw new SpecError(shown, "busyboxApplets", "expected true or false");
  const filesDir = join(dir, "files");
  const app = str(obj, "app", shown);
  if (app !== undefined && !imageName.test(app)) throw new SpecError(shown, "app", "expected an app folder name under apps/");
  const vendor = str(obj, "vendor", shown);
  const workingDir = str(obj, "workingDir", shown) ?? "/";
  if (!workingDir.startsWith("/")) throw new SpecError(shown, "workingDir", "expected an absolute path");
  return Object.freeze({
    name,
    dir,
    file: shown,
    description,
    ...(vendor ? { vendor } : {}),
    layers,
    packages: strList(obj, "packages", shown, packageName, "Debian package name"),
    ...(app ? { app } : {}),
    user,
    users,
    groups,
    entrypoint: strList(obj, "entrypoint", shown),
    cmd: strList(obj, "cmd", shown),
    env,
    workingDir,
    symlinks,
    directories,
    busyboxApplets: busybox,
    prune: strList(obj, "prune", shown, imageGlob, "relative glob"),
    ...(existsSync(filesDir) && statSync(filesDir).isDirectory() ? { filesDir } : {}),
  });
}

/** Every image folder under deploy/images (the ones with an image.json), sorted. */
export function listImageNames(imagesDir: string): string[] {
  return readdirSync(imagesDir)
    .filter((n) => n !== "layers" && existsSync(join(imagesDir, n, "image.json")))
    .sort();
}
