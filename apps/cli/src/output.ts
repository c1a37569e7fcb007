/**
 * The `-o/--output` flag: `table` for people (the default), `json` and `yaml` for programs.
 */
import type { TextSink } from "./cli-io";
import { UsageError } from "./usage-error";

export type OutputFormat = "table" | "json" | "yaml";
export const outputFormats: readonly OutputFormat[] = ["table", "json", "yaml"];

/** The parseArgs option spec for `-o/--output`. */
export const outputOption = { output: { type: "string", short: "o", default: "table" } } as const;

export function parseOutputFormat(value: string | undefined): OutputFormat {
  const format = value ?? "table";
  if (!(outputFormats as readonly string[]).includes(format)) {
    throw new UsageError(`--output must be one of ${outputFormats.join(", ")}, got "${format}"`);
  }
  return format as OutputFormat;
}

/** Writes a value for programs to read. The YAML library loads only when YAML is asked for. */
export async function writeStructured(sink: TextSink, format: "json" | "yaml", value: unknown): Promise<void> {
  if (format === "json") {
    sink.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const { toYaml } = await import("./yaml-output");
  sink.write(toYaml(value));
}

/** Left-aligned columns, two spaces apart. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n") + "\n";
}
