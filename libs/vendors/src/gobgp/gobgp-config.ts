/**
 * GoBGP config files: which format (gobgpd's `-t`), and whether a change can be applied by
 * a reload. gobgpd re-reads its file on SIGHUP but applies only neighbors, peer groups,
 * dynamic neighbors, defined sets, policies and the global apply-policy; a change anywhere
 * else (the AS, the router id, zebra, RPKI, BMP, VRFs, MRT) is silently ignored until a
 * restart. So we compare everything but those parts and restart when it differs.
 */
import { parse as parseYaml } from "yaml";

export type GobgpConfigType = "toml" | "yaml" | "json";

const typesByExtension: Readonly<Record<string, GobgpConfigType>> = {
  toml: "toml",
  yaml: "yaml",
  yml: "yaml",
  json: "json",
};

/** The format of a config by file name (`r1.yaml`), or undefined for other extensions. */
export function configTypeOfFileName(name: string): GobgpConfigType | undefined {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? undefined : typesByExtension[name.slice(dot + 1).toLowerCase()];
}

/**
 * The format of a node's config: the extension of `config.file` (the file the topology
 * points at, `r1.yaml` in upstream's example), else of `config.config_file`, else YAML
 * (upstream starts gobgpd with `-t yaml`).
 */
export function gobgpConfigType(config: { file?: string; configFile?: string }): GobgpConfigType {
  for (const name of [config.file, config.configFile]) {
    const type = name ? configTypeOfFileName(name) : undefined;
    if (type) return type;
  }
  return "yaml";
}

/** Top-level parts gobgpd applies on SIGHUP. */
const reloadableSections = new Set(["neighbors", "peer-groups", "dynamic-neighbors", "defined-sets", "policy-definitions"]);

/**
 * Whether going from `current` to `next` needs a restart of gobgpd (a reload would leave
 * part of the change unapplied). Unparseable input answers true: restarting is always correct.
 */
export function gobgpChangeNeedsRestart(current: string, next: string, type: GobgpConfigType): boolean {
  try {
    const a = type === "toml" ? fixedPartOfToml(current) : fixedPartOfStructured(current);
    const b = type === "toml" ? fixedPartOfToml(next) : fixedPartOfStructured(next);
    return a !== b;
  } catch {
    return true;
  }
}

/** YAML and JSON (JSON is YAML): the config without its reloadable parts, canonical. */
function fixedPartOfStructured(text: string): string {
  const parsed = lowerKeys(parseYaml(text) ?? {});
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a mapping");
  const fixed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (reloadableSections.has(key)) continue;
    if (key === "global" && value && typeof value === "object" && !Array.isArray(value)) {
      const { "apply-policy": _applyPolicy, ...rest } = value as Record<string, unknown>;
      fixed[key] = rest;
    } else {
      fixed[key] = value;
    }
  }
  return canonicalJson(fixed);
}

/**
 * TOML by its tables: every `[a.b]` / `[[a]]` header starts a section named by its first
 * key (`global.apply-policy...` is its own). Lines are compared trimmed, comments and
 * blank lines dropped; order within the fixed part matters (conservative: a reorder restarts).
 */
function fixedPartOfToml(text: string): string {
  const fixed: string[] = [];
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?$/.exec(line);
    if (header) {
      const keys = header[1]!.split(".").map((k) => k.trim().replace(/^["']|["']$/g, "").toLowerCase());
      section = keys[0] === "global" && keys[1] === "apply-policy" ? "global.apply-policy" : (keys[0] ?? "");
      if (!isReloadable(section)) fixed.push(line.toLowerCase());
      continue;
    }
    if (section === "global" && /^["']?apply-policy\b/i.test(line)) continue;
    if (!isReloadable(section)) fixed.push(line);
  }
  return fixed.join("\n");
}

function isReloadable(section: string): boolean {
  return reloadableSections.has(section) || section === "global.apply-policy";
}

/** gobgpd reads keys case-insensitively (viper). */
function lowerKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), lowerKeys(v)]));
  }
  return value;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
