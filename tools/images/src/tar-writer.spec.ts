import { mkdtemp, mkdir, rm, symlink, writeFile, chmod, link, readFile, readlink, stat, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readTar, type TarHeader } from "./tar-reader.ts";
import { collectTree, writeTar } from "./tar-writer.ts";
import { extractTarStream } from "./tar-reader.ts";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "kne-tar-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function archive(root: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await writeTar(await collectTree(root), (c) => void chunks.push(Buffer.from(c)), 0);
  return Buffer.concat(chunks);
}

async function makeTree(root: string, order: "ab" | "ba"): Promise<void> {
  const names = order === "ab" ? ["a", "b"] : ["b", "a"];
  for (const n of names) {
    await mkdir(join(root, n), { recursive: true });
    await writeFile(join(root, n, "file.txt"), `content of ${n}\n`);
  }
  const long = join(root, "a", "x".repeat(60), "y".repeat(60));
  await mkdir(long, { recursive: true });
  await writeFile(join(long, `${"z".repeat(120)}.txt`), "deep\n");
  await writeFile(join(root, "b", "run.sh"), "#!/bin/sh\n");
  await chmod(join(root, "b", "run.sh"), 0o755);
  await symlink("/usr/bin/busybox", join(root, "b", "sh"));
  await link(join(root, "a", "file.txt"), join(root, "b", "hard.txt"));
}

describe("tar writer", () => {
  it("gives the same bytes for the same tree whatever the creation order and file times", async () => {
    const one = await tempDir();
    const two = await tempDir();
    await makeTree(one, "ab");
    await makeTree(two, "ba");
    await utimes(join(two, "a", "file.txt"), 1_000_000, 1_000_000);
    const a = await archive(one);
    const b = await archive(two);
    expect(a.equals(b)).toBe(true);
    expect(a.length % 512).toBe(0);
  });

  it("round-trips long paths, modes, symlinks and hard links through the reader", async () => {
    const src = await tempDir();
    await makeTree(src, "ab");
    const bytes = await archive(src);
    const headers: TarHeader[] = [];
    await readTar(
      (async function* () {
        yield bytes;
      })(),
      async (h) => void headers.push(h),
    );
    expect(headers.map((h) => h.path)).toEqual([...headers.map((h) => h.path)].sort());
    expect(headers.every((h) => h.uid === 0 && h.gid === 0)).toBe(true);
    const deep = headers.find((h) => h.path.endsWith(`${"z".repeat(120)}.txt`));
    expect(deep?.path.length).toBeGreaterThan(200);
    const hard = headers.find((h) => h.path === "b/hard.txt");
    expect(hard).toMatchObject({ type: "hardlink", linkTarget: "a/file.txt" });

    const out = await tempDir();
    await extractTarStream(
      (async function* () {
        yield bytes;
      })(),
      out,
    );
    expect(await readFile(join(out, "a", "x".repeat(60), "y".repeat(60), `${"z".repeat(120)}.txt`), "utf8")).toBe("deep\n");
    expect(await readlink(join(out, "b", "sh"))).toBe("/usr/bin/busybox");
    expect((await stat(join(out, "b", "run.sh"))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(out, "b", "hard.txt"), "utf8")).toBe("content of a\n");
  });

  it("refuses entries that would land outside the target", async () => {
    const out = await tempDir();
    const chunks: Buffer[] = [];
    await writeTar([{ path: "../escape", type: "file", mode: 0o644, uid: 0, gid: 0, data: Buffer.from("x") }], (c) => void chunks.push(Buffer.from(c)), 0);
    await expect(
      extractTarStream(
        (async function* () {
          yield Buffer.concat(chunks);
        })(),
        out,
      ),
    ).rejects.toThrow(/leaves the target directory/);
  });
});
