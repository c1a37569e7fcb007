/**
 * What Debian's maintainer scripts and base system would otherwise give an image, written
 * as files: the merged-/usr skeleton, /etc/passwd and /etc/group, nsswitch.conf, busybox's
 * applet links, a dpkg status file (so scanners can tell what is inside), and the pruning of
 * what a container never reads (documentation, man pages, locales, init scripts).
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { DebianPackage } from "./debian-packages.ts";
import type { ImageSpec } from "./image-spec.ts";
import type { TarEntry } from "./tar-writer.ts";

/** Removed from every package layer: nothing in a container reads them. */
export const defaultPrune: readonly string[] = [
  "usr/share/doc/*/*", // but not usr/share/doc/*/copyright: licences stay (see below)
  "usr/share/man",
  "usr/share/info",
  "usr/share/locale",
  "usr/share/lintian",
  "usr/share/linda",
  "usr/share/bug",
  "usr/share/doc-base",
  "usr/share/bash-completion",
  "usr/share/zsh",
  "usr/share/menu",
  "usr/share/gdb",
  "usr/share/apport",
  "etc/init.d",
  "etc/cron.d",
  "etc/cron.daily",
  "etc/logrotate.d",
  "etc/rsyslog.d",
  "usr/lib/systemd",
  "usr/lib/tmpfiles.d",
  "usr/lib/sysusers.d",
  "var/cache",
  "var/lib/apt",
  "var/log",
];

/** Kept although a pattern above matches. */
const keep = /^usr\/share\/doc\/[^/]+\/copyright$/;

/** `*` matches within one path segment, `**` across segments, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  // A pattern names a path and everything under it.
  return new RegExp(`^${re}(/.*)?$`);
}

/** Deletes what the patterns match under `root`; returns how many paths went. */
export async function prune(root: string, patterns: readonly string[]): Promise<number> {
  const res = patterns.map(globToRegExp);
  let removed = 0;
  async function walk(dir: string, rel: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (!keep.test(path) && res.some((r) => r.test(path))) {
        await rm(join(dir, entry.name), { recursive: true, force: true });
        removed++;
      } else if (entry.isDirectory()) {
        await walk(join(dir, entry.name), path);
      }
    }
  }
  await walk(root, "");
  return removed;
}

function dir(path: string, mode = 0o755, uid = 0, gid = 0): TarEntry {
  return { path, type: "directory", mode, uid, gid };
}
function link(path: string, target: string): TarEntry {
  return { path, type: "symlink", mode: 0o777, uid: 0, gid: 0, linkTarget: target };
}
function file(path: string, text: string, mode = 0o644): TarEntry {
  return { path, type: "file", mode, uid: 0, gid: 0, data: Buffer.from(text, "utf8") };
}

/** The directories and merged-/usr links every image starts from (the bottom layer's). */
export function skeletonEntries(): TarEntry[] {
  return [
    link("bin", "usr/bin"),
    dir("dev"),
    dir("etc"),
    dir("home"),
    link("lib", "usr/lib"),
    link("lib64", "usr/lib64"),
    dir("proc"),
    dir("root", 0o700),
    dir("run"),
    dir("run/lock", 0o1777),
    link("sbin", "usr/sbin"),
    dir("sys"),
    dir("tmp", 0o1777),
    dir("usr"),
    dir("usr/bin"),
    dir("usr/lib"),
    dir("usr/lib64"),
    dir("usr/local"),
    dir("usr/local/bin"),
    dir("usr/sbin"),
    dir("var"),
    dir("var/lib"),
    // What base-files' maintainer script makes: run-time state lives in /run.
    link("var/lock", "../run/lock"),
    link("var/run", "../run"),
    dir("var/tmp", 0o1777),
  ];
}

/** The dpkg status file of the packages in the image. */
export function dpkgStatus(packages: readonly DebianPackage[]): string {
  return [...packages]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((p) =>
      [
        `Package: ${p.name}`,
        "Status: install ok installed",
        `Architecture: ${p.architecture}`,
        ...(p.multiArch ? [`Multi-Arch: ${p.multiArch}`] : []),
        ...(p.source ? [`Source: ${p.source}`] : []),
        `Version: ${p.version}`,
        ...(p.provides ? [`Provides: ${p.provides}`] : []),
        "",
      ].join("\n"),
    )
    .join("\n");
}

/**
 * The image's own top layer: users and groups, name service config, dpkg status, busybox
 * applet links (only where no package put a file), the spec's symlinks and directories.
 * `existing` holds every path the layers below carry.
 */
export function imageFilesEntries(spec: ImageSpec, packages: readonly DebianPackage[], existing: ReadonlySet<string>, busyboxApplets: readonly string[]): TarEntry[] {
  const shell = existing.has("usr/bin/bash") ? "/bin/bash" : existing.has("usr/bin/busybox") ? "/bin/sh" : "/usr/sbin/nologin";
  const passwd = [`root:x:0:0:root:/root:${shell}`, ...spec.users.map((u) => `${u.name}:x:${u.uid}:${u.gid}::${u.home}:/usr/sbin/nologin`), "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin", ""];
  const groupIds = new Map<string, number>([["root", 0]]);
  for (const u of spec.users) groupIds.set(u.name, u.gid);
  for (const g of spec.groups) groupIds.set(g.name, g.gid);
  groupIds.set("nogroup", 65534);
  const members = (group: string): string => spec.users.filter((u) => u.groups.includes(group)).map((u) => u.name).join(",");
  const group = [...groupIds.entries()].map(([name, gid]) => `${name}:x:${gid}:${members(name)}`).concat([""]);
  const entries: TarEntry[] = [
    dir("etc"),
    file("etc/group", group.join("\n")),
    file("etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n"),
    file("etc/passwd", passwd.join("\n")),
    dir("var"),
    dir("var/lib"),
    dir("var/lib/dpkg"),
    file("var/lib/dpkg/status", dpkgStatus(packages)),
  ];
  for (const u of spec.users) {
    if (u.home !== "/nonexistent") entries.push(dir(u.home.replace(/^\//, ""), 0o750, u.uid, u.gid));
  }
  for (const d of spec.directories) entries.push(dir(d.path, d.mode, d.uid, d.gid));
  for (const [path, target] of Object.entries(spec.symlinks)) entries.push(link(path, target));
  const taken = new Set(entries.map((e) => e.path));
  for (const applet of busyboxApplets) {
    if (!existing.has(applet) && !taken.has(applet)) {
      entries.push(link(applet, "/usr/bin/busybox"));
      taken.add(applet);
    }
  }
  // Parents of everything above must be in the archive before their children.
  for (const e of [...entries]) {
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (!taken.has(parent) && !existing.has(parent)) {
        entries.push(dir(parent));
        taken.add(parent);
      }
    }
  }
  return entries;
}
