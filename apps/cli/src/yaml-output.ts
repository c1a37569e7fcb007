/**
 * YAML for `-o yaml`, in a module of its own so that output.ts loads the YAML library only
 * when YAML is asked for (a static import here: bundled CommonJS packages give their named
 * exports to static imports, not to import() of the package itself).
 */
import { stringify } from "yaml";

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}
