import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listImageNames, loadImageSpec, loadSharedLayer } from "./image-spec.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A workspace with deploy/images holding the given image specs. */
async function imagesDir(specs: Record<string, unknown>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "kne-specs-"));
  dirs.push(root);
  const dir = join(root, "deploy", "images");
  for (const [name, spec] of Object.entries(specs)) {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, "image.json"), typeof spec === "string" ? spec : JSON.stringify(spec));
  }
  return dir;
}

describe("image specs", () => {
  it("loads a spec with users, directories and symlinks", async () => {
    const dir = await imagesDir({
      frr: {
        description: "FRR",
        layers: ["debian-base"],
        packages: ["frr"],
        users: [{ name: "frr", uid: 100, gid: 101, groups: ["frrvty"] }],
        groups: [{ name: "frrvty", gid: 102 }],
        directories: [{ path: "run/frr", mode: "0755", owner: "frr" }],
        symlinks: { "usr/local/bin/x": "/usr/bin/x" },
      },
    });
    const spec = loadImageSpec(dir, "frr");
    expect(spec.file).toBe("deploy/images/frr/image.json");
    expect(spec.directories).toEqual([{ path: "run/frr", mode: 0o755, uid: 100, gid: 101 }]);
    expect(spec.user).toBe(0);
    expect(listImageNames(dir)).toEqual(["frr"]);
  });

  it.each([
    [{ layers: ["debian-base"] }, "deploy/images/x/image.json: description: required"],
    [{ description: "d", layers: ["debian-base"], packages: ["Bad Name"] }, 'packages[0]: expected a Debian package name, got "Bad Name"'],
    [{ description: "d", layers: ["debian-base"], pakages: [] }, "pakages: unknown field"],
    [{ description: "d", layers: ["debian-base"], directories: [{ path: "../etc" }] }, "directories[0].path: expected a relative path"],
    [{ description: "d", layers: ["debian-base"], directories: [{ path: "run/x", owner: "frr2" }] }, 'directories[0].owner: no user named "frr2"'],
    [{ description: "d", layers: ["debian-base"], users: [{ name: "a", uid: 0, gid: 0 }] }, "users[0].uid: root is always there"],
    [{ description: "d", layers: ["debian-base"], user: "nobody-here" }, 'user: no user named "nobody-here"'],
    [{ description: "d", layers: [] }, "layers: name at least the bottom layer"],
    ["{ not json", "(file): not valid JSON"],
  ])("refuses %j naming file and field", async (spec, message) => {
    const dir = await imagesDir({ x: spec });
    expect(() => loadImageSpec(dir, "x")).toThrow(message);
  });

  it("allows assumeInstalled only in the bottom layer, with a reason", async () => {
    const dir = await imagesDir({});
    await mkdir(join(dir, "layers"), { recursive: true });
    await writeFile(join(dir, "layers", "base.json"), JSON.stringify({ packages: ["libc6"], assumeInstalled: { packages: ["dpkg"] } }));
    expect(() => loadSharedLayer(dir, "base", true)).toThrow("assumeInstalled.why: say why");
    await writeFile(join(dir, "layers", "top.json"), JSON.stringify({ packages: ["bash"], assumeInstalled: { why: "w", packages: ["dpkg"] } }));
    expect(() => loadSharedLayer(dir, "top", false)).toThrow("only the bottom layer");
    expect(() => loadSharedLayer(dir, "missing", false)).toThrow('no such shared layer "missing"');
  });
});
