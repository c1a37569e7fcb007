/**
 * The shape of a YAML or JSON document as the JSON-mapping walker reads it: mappings,
 * lists and scalars, each with the offset where it starts in the text. YAML and JSON are
 * parsed by different readers (JSON by a small fast one) into this one shape.
 */
export type ScalarValue = string | number | bigint | boolean | null;

export type SourceNode =
  | { kind: "map"; offset: number; entries: SourceEntry[] }
  | { kind: "list"; offset: number; items: SourceNode[] }
  | { kind: "scalar"; offset: number; value: ScalarValue }
  /** A value this reader does not map (a YAML `!!binary` or timestamp, for example). */
  | { kind: "unsupported"; offset: number; description: string };

export interface SourceEntry {
  key: SourceNode;
  value: SourceNode;
}

/** A parsed document: its root (null when empty) and how to turn offsets into line and column. */
export interface SourceDocument {
  root: SourceNode | null;
  position(offset: number): { line: number; col: number };
}

/** Nesting deeper than this is not a topology; refusing it keeps the stack safe. */
export const maxSourceDepth = 64;
