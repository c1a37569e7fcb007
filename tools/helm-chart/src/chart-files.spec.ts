import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { crdCopyDifferences, sourceCrdsDir } from "./chart-files";

describe("the chart's crds/", () => {
  it("is a byte-for-byte copy of deploy/crds/kne (to fix: cp deploy/crds/kne/*.yaml deploy/helm/kne/crds/)", () => {
    expect(crdCopyDifferences()).toEqual([]);
  });

  it("reports a changed, a missing and an extra file", () => {
    const dir = mkdtempSync(join(tmpdir(), "kne-crd-copy-"));
    try {
      cpSync(sourceCrdsDir, dir, { recursive: true });
      writeFileSync(join(dir, "links.kne.dev.yaml"), "# edited by hand\n", { flag: "a" });
      rmSync(join(dir, "devices.kne.dev.yaml"));
      writeFileSync(join(dir, "extra.yaml"), "{}\n");
      const diff = crdCopyDifferences(sourceCrdsDir, dir);
      expect(diff).toHaveLength(3);
      expect(diff.join("\n")).toMatch(/links\.kne\.dev\.yaml: differs/);
      expect(diff.join("\n")).toMatch(/devices\.kne\.dev\.yaml: missing/);
      expect(diff.join("\n")).toMatch(/extra\.yaml: not in/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
