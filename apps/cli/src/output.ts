/**
 * The `-o/--output` flag: `table` for people (the default), `json` and `yaml` for programs.
 */
import { stringify } from "yaml";
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

/** Writes a value for programs to read. */
export function writeStructured(sink: TextSink, format: "json" | "yaml", value: unknown): void {
  sink.write(format === "json" ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0 }));
}

/** Left-aligned columns, two spaces apart. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n") + "\n";
}
