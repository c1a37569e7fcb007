/**
 * image-values.sh: prints the chart values for the images of the image build's list
 * (default: the list `tools/images/build.sh list` names) on stdout.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./chart-files";
import { chartImageValues, chartImageValuesYaml, readImageList } from "./image-values";

try {
  const listPath = process.argv[2] ?? execFileSync("bash", [join(repoRoot, "tools", "images", "build.sh"), "list"], { encoding: "utf8" }).trim();
  process.stdout.write(chartImageValuesYaml(chartImageValues(readImageList(listPath), listPath), listPath));
} catch (e) {
  process.stderr.write(`image-values: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
