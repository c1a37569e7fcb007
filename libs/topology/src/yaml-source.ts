/**
 * YAML documents, read with the `yaml` package (which keeps source ranges) and turned into
 * the source tree the JSON-mapping walker reads. Aliases are expanded here, within limits
 * that stop a small file from expanding into a huge one.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from "yaml";
import { TopologyParseError } from "./errors";
import { maxSourceDepth, type SourceDocument, type SourceNode } from "./source-tree";

/** Alias expansions allowed per document; real topologies use few or none. */
const maxAliasExpansions = 10_000;

export function parseYamlSource(text: string, file?: string): SourceDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, intAsBigInt: true, prettyErrors: false, uniqueKeys: true });
  const fail = (offset: number, message: string): never => {
    const { line, col } = lineCounter.linePos(offset);
    throw new TopologyParseError({ file, line, col, path: "", message });
  };
  const firstError = doc.errors[0];
  if (firstError) fail(firstError.pos[0], cleanYamlMessage(firstError.message));
  const root = doc.contents as YamlNode | null;
  const converter = new YamlConverter(doc, text, fail);
  // An empty document is an empty message; validation then says what is missing.
  const tree = root === null || (isScalar(root) && root.value === null) ? null : converter.node(root, 0);
  return { root: tree, position: (offset) => lineCounter.linePos(offset) };
}

/** yaml's messages end with " at line L, column C" (we report the position ourselves). */
function cleanYamlMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "").trim();
}

class YamlConverter {
  private aliasExpansions = 0;

  constructor(
    private readonly doc: Document,
    private readonly text: string,
    private readonly fail: (offset: number, message: string) => never,
  ) {}

  /** `fallbackOffset` places a value that is not written at all (`name:` with nothing after it). */
  node(node: unknown, depth: number, fallbackOffset = 0): SourceNode {
    let current = node as YamlNode;
    const offset = current?.range?.[0] ?? fallbackOffset;
    if (depth > maxSourceDepth) this.fail(offset, `nesting deeper than ${maxSourceDepth} levels`);
    while (isAlias(current)) {
      if (++this.aliasExpansions > maxAliasExpansions) this.fail(offset, "too many alias expansions");
      current = current.resolve(this.doc) as YamlNode;
      if (!current) this.fail(offset, "alias to an unknown anchor");
    }
    if (isMap(current)) {
      return {
        kind: "map",
        offset,
        entries: current.items.map((pair) => {
          const keyOffset = (pair.key as YamlNode | null)?.range?.[0] ?? offset;
          return {
            key: this.node(pair.key ?? null, depth + 1, keyOffset),
            value: this.node(pair.value ?? null, depth + 1, keyOffset),
          };
        }),
      };
    }
    if (isSeq(current)) return { kind: "list", offset, items: current.items.map((item) => this.node(item ?? null, depth + 1)) };
    if (current === null || current === undefined) return { kind: "scalar", offset, value: null };
    if (isScalar(current)) {
      const value: unknown = current.value;
      // With integers read as bigint, `-0` would lose its sign; a double field keeps it.
      if (value === 0n && this.text.slice(offset, current.range?.[1]).trim() === "-0") return { kind: "scalar", offset, value: -0 };
      if (value === null || ["string", "number", "bigint", "boolean"].includes(typeof value)) {
        return { kind: "scalar", offset, value: value as string | number | bigint | boolean | null };
      }
      return { kind: "unsupported", offset, description: `a YAML value of tag ${current.tag ?? "unknown"}` };
    }
    return { kind: "unsupported", offset, description: "an unsupported YAML node" };
  }
}
