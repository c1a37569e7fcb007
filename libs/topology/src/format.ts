/**
 * The three ways a topology is written down, and how a file name tells which one it is.
 */
import { basename } from "node:path";

/** A topology file format: protobuf text format, or the protobuf JSON mapping as YAML or JSON. */
export type TopologyFormat = "textproto" | "yaml" | "json";

export const topologyFormats: readonly TopologyFormat[] = ["textproto", "yaml", "json"];

/**
 * File name endings per format. Upstream KNE names its text-format files `.pb.txt`,
 * `.pbtxt` and (rarely) `.txt`; `.textproto` and `.txtpb` are the protobuf project's own.
 */
const extensionsByFormat: Record<TopologyFormat, readonly string[]> = {
  textproto: [".pb.txt", ".pbtxt", ".textproto", ".txtpb", ".txt"],
  yaml: [".yaml", ".yml"],
  json: [".json"],
};

/** The format a file name implies, or undefined when its ending is not one we know. */
export function detectTopologyFormat(file: string): TopologyFormat | undefined {
  const name = basename(file).toLowerCase();
  for (const format of topologyFormats) {
    if (extensionsByFormat[format].some((ext) => name.endsWith(ext))) return format;
  }
  return undefined;
}

/** The conventional file ending for a format, for example when writing a converted file. */
export function topologyFileExtension(format: TopologyFormat): string {
  return format === "textproto" ? ".pb.txt" : extensionsByFormat[format][0]!;
}

/** Whether a string names a format (for flags such as `--to`). */
export function isTopologyFormat(value: string): value is TopologyFormat {
  return (topologyFormats as readonly string[]).includes(value);
}

/** Every file ending we recognise, for messages that list them. */
export function knownTopologyExtensions(): string[] {
  return topologyFormats.flatMap((format) => extensionsByFormat[format]);
}
