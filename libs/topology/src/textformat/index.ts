/**
 * The protobuf text format (https://protobuf.dev/reference/protobuf/textformat-spec/),
 * driven only by message descriptors, so it reads and writes any message, not only
 * topologies.
 *
 * - `parseTextFormat(schema, text, { file, registry })` reads a message; every problem is a
 *   TopologyParseError naming the line, the column (in code points) and the field path,
 *   such as `nodes[1].config.file` or `nodes[0].interfaces[eth1].mtu`.
 * - `toTextFormat(schema, message, { registry, indent })` writes canonical text: fields by
 *   number, maps sorted by key, Any expanded when the registry knows its type. It reads
 *   back as an equal message.
 *
 * Beyond the spec's grammar, as the C++ parser does: `\uD83D\uDE00` surrogate pairs in
 * strings and `\X` hex escapes. Reserved field names are skipped with their values, as
 * the spec says. Extensions are not supported and are rejected by name.
 */
export { parseTextFormat, MAX_NESTING_DEPTH, type TextFormatOptions } from "./parse";
export { toTextFormat, type TextFormatWriteOptions } from "./print";
