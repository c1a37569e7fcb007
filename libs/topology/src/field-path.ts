/**
 * Field paths (`nodes[0].services[22].inside`) and the table that maps them to where they
 * are written in a source file.
 *
 * Two spellings of a path exist on purpose. The *source path* indexes repeated fields by
 * position (`nodes[3]`) because that is what a file has; the *display path* that users see
 * in validation problems names nodes by name (`nodes[r1]`) because that is what they
 * search for. Locations are always looked up by source path.
 */
import type { SourceLocation } from "./errors";

/** `path.field`, or `field` at the root. */
export function appendField(path: string, field: string): string {
  return path === "" ? field : `${path}.${field}`;
}

/** `path[index]` for a list element or `path[key]` for a map entry. */
export function appendIndex(path: string, indexOrKey: number | string): string {
  return `${path}[${indexOrKey}]`;
}

/** The path one level up (`a.b[1]` → `a.b`, `a.b` → `a`, `a` → ``), or undefined at the root. */
export function parentPath(path: string): string | undefined {
  if (path === "") return undefined;
  if (path.endsWith("]")) {
    const open = path.lastIndexOf("[");
    if (open >= 0) return path.slice(0, open);
  }
  const dot = path.lastIndexOf(".");
  return dot < 0 ? "" : path.slice(0, dot);
}

/** Finds where a source path is written; undefined when the input has no positions. */
export type SourceLocator = (sourcePath: string) => Pick<SourceLocation, "line" | "col"> | undefined;

/** Line and column (1-based) of a position in a text, from a table of line starts. */
export class LineTable {
  private readonly lineStarts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
  }

  position(offset: number): { line: number; col: number } {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, col: offset - this.lineStarts[low]! + 1 };
  }
}

/**
 * Source positions by source path. A path that was not written (a field left at its
 * default) resolves to its closest written ancestor, so a problem about a missing field
 * still points into the right block.
 */
export class FieldPositions {
  private readonly positions = new Map<string, { line: number; col: number }>();

  /** Records the first position seen for a path; later ones (repeated keys) do not move it. */
  record(path: string, position: { line: number; col: number }): void {
    if (!this.positions.has(path)) this.positions.set(path, position);
  }

  locate(path: string): { line: number; col: number } | undefined {
    for (let p: string | undefined = path; p !== undefined; p = parentPath(p)) {
      const found = this.positions.get(p);
      if (found) return found;
    }
    return undefined;
  }

  get size(): number {
    return this.positions.size;
  }

  entries(): IterableIterator<[string, { line: number; col: number }]> {
    return this.positions.entries();
  }
}

/** A locator that computes its table on first use: positions are only needed when something is wrong. */
export function lazyLocator(build: () => FieldPositions): SourceLocator {
  let table: FieldPositions | undefined;
  return (path) => {
    table ??= build();
    return table.locate(path);
  };
}
