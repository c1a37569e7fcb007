/**
 * Loading: topology text (textproto, YAML or JSON) → a `topo.Topology` message plus a way
 * to find where each field was written. Loading only parses; validateTopology judges.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve as resolvePath } from "node:path";
import { topo, vendorDataRegistry } from "@kne/proto";
import { TopologyParseError } from "./errors";
import { lazyLocator, type SourceLocator } from "./field-path";
import { detectTopologyFormat, isTopologyFormat, knownTopologyExtensions, type TopologyFormat } from "./format";
import { parseJsonMapped } from "./json-mapping";
import { textFormatPositions } from "./text-positions";
import { parseTextFormat } from "./textformat";
import type { ValidateOptions } from "./validate";

/** A parsed topology and what validation needs to point into its source. */
export interface LoadedTopology extends ValidateOptions {
  topology: topo.Topology;
  format: TopologyFormat;
  /** The file as given, named in problems. */
  file?: string;
  /** The directory relative config files are read from (the file's directory). */
  baseDir?: string;
  /** Line and column of a source path such as `nodes[1].interfaces[eth1]`. */
  locate: SourceLocator;
}

export interface ParseTopologyOptions {
  format: TopologyFormat;
  /** The file name problems name. */
  file?: string;
  /** Where relative config files are; defaults to the directory of `file`, if given. */
  baseDir?: string;
}

export interface LoadTopologyOptions {
  /** Overrides the format the file name implies. */
  format?: TopologyFormat;
  /** What a relative `file` is relative to (default: the process's directory); problems name `file` as given. */
  cwd?: string;
}

/** Parses topology text. Throws TopologyParseError (with file:line:col and path) on bad input. */
export function parseTopology(text: string, options: ParseTopologyOptions): LoadedTopology {
  if (!isTopologyFormat(options.format)) {
    throw new TypeError(`parseTopology: format must be textproto, yaml or json, got ${JSON.stringify(options.format)}`);
  }
  const file = options.file;
  const baseDir = options.baseDir ?? (file !== undefined ? dirname(resolvePath(file)) : undefined);
  if (options.format === "textproto") {
    const topology = parseTextFormat(topo.TopologySchema, text, { file, registry: vendorDataRegistry });
    const locate = lazyLocator(() => textFormatPositions(topo.TopologySchema, text, vendorDataRegistry));
    return { topology, format: options.format, file, baseDir, locate };
  }
  const { message, locate } = parseJsonMapped(topo.TopologySchema, text, {
    syntax: options.format,
    file,
    registry: vendorDataRegistry,
  });
  return { topology: message, format: options.format, file, baseDir, locate };
}

/** Reads and parses a topology file; the format comes from its name unless given. */
export async function loadTopology(file: string, options: LoadTopologyOptions = {}): Promise<LoadedTopology> {
  if (typeof file !== "string" || file === "") throw new TypeError("loadTopology: file must be a non-empty path");
  if (options.format !== undefined && !isTopologyFormat(options.format)) {
    throw new TypeError(`loadTopology: format must be textproto, yaml or json, got ${JSON.stringify(options.format)}`);
  }
  const format = options.format ?? detectTopologyFormat(file);
  if (format === undefined) {
    throw new TopologyParseError({
      file,
      path: "",
      message: `cannot tell the format from the file name; use one of ${knownTopologyExtensions().join(" ")}`,
    });
  }
  const path = resolvePath(options.cwd ?? process.cwd(), file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (error as Error).message;
    throw new TopologyParseError({ file, path: "", message: `cannot read: ${reason}` });
  }
  return parseTopology(text, { format, file, baseDir: dirname(path) });
}
