/**
 * Where the chart and its CRDs live, and the one rule that keeps them honest: the chart's
 * crds/ is a byte-for-byte copy of deploy/crds/kne, the single source of the project's
 * CRDs (the manager's --install-crds reads that directory too).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const chartDir = join(repoRoot, "deploy", "helm", "kne");
export const chartCrdsDir = join(chartDir, "crds");
export const sourceCrdsDir = join(repoRoot, "deploy", "crds", "kne");

/** Differences between the chart's crds/ and deploy/crds/kne, one line each (empty: equal). */
export function crdCopyDifferences(source = sourceCrdsDir, copy = chartCrdsDir): string[] {
  const yaml = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
  const want = yaml(source);
  const have = yaml(copy);
  const out: string[] = [];
  for (const f of want) {
    if (!have.includes(f)) out.push(`${join(copy, f)}: missing (copy ${join(source, f)})`);
    else if (!readFileSync(join(source, f)).equals(readFileSync(join(copy, f)))) out.push(`${join(copy, f)}: differs from ${join(source, f)}`);
  }
  for (const f of have) if (!want.includes(f)) out.push(`${join(copy, f)}: not in ${source} (remove it, or add it there first)`);
  return out;
}
