/**
 * What the commands that talk to the manager share: loading a topology argument (with its
 * config files inlined, problems reported as FILE:LINE:COL), telling a file from a name,
 * durations, and reporting RPC errors with their field violations.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { clone, toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { topo, vendorDataRegistry, contractRegistry } from "@kne/proto";
import { fieldViolationsOf } from "@kne/rpc";
import { mapInterfaceNames } from "@kne/vendors";
import { type LoadedTopology, TopologyParseError, detectTopologyFormat, formatProblem, loadTopology, resolveConfigPath, validateTopology } from "@kne/topology";
import { ExitCode, type CliIo } from "./cli-io";
import { UsageError } from "./usage-error";

/** A loaded, valid topology with its config files inline; undefined after reporting problems. */
export async function loadForManager(file: string, io: CliIo): Promise<{ loaded: LoadedTopology; topology: topo.Topology } | undefined> {
  let loaded: LoadedTopology;
  try {
    loaded = await loadTopology(file, { cwd: io.cwd });
  } catch (error) {
    if (error instanceof TopologyParseError) {
      io.stderr.write(`${formatProblem(error.problem)}\n`);
      return undefined;
    }
    throw error;
  }
  const { errors, warnings } = validateTopology(loaded.topology, { ...loaded, interfaceNames: mapInterfaceNames });
  for (const w of warnings) io.stderr.write(`${formatProblem({ ...w, message: `warning: ${w.message}` })}\n`);
  if (errors.length > 0) {
    for (const e of errors) io.stderr.write(`${formatProblem(e)}\n`);
    io.stderr.write(`${file}: ${errors.length} error${errors.length === 1 ? "" : "s"}: nothing was made\n`);
    return undefined;
  }
  const topology = clone(topo.TopologySchema, loaded.topology);
  for (const node of topology.nodes) {
    const data = node.config?.configData;
    if (data?.case === "file" && loaded.baseDir) {
      node.config!.configData = { case: "data", value: new Uint8Array(await readFile(resolveConfigPath(loaded.baseDir, data.value))) };
    }
  }
  return { loaded, topology };
}

/** A topology NAME, or a FILE whose topology name is taken. */
export async function topologyName(arg: string, io: CliIo): Promise<string> {
  const path = resolve(io.cwd, arg);
  if (detectTopologyFormat(arg) !== undefined && existsSync(path) && statSync(path).isFile()) {
    const loaded = await loadTopology(arg, { cwd: io.cwd });
    return loaded.topology.name;
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(arg)) {
    throw new UsageError(`${JSON.stringify(arg)} is neither a topology file nor a topology name`);
  }
  return arg;
}

/** `90`, `90s`, `5m`, `1h30m`, `500ms` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of t.matchAll(re)) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
    total += Number(m[1]) * unit;
    consumed += m[0].length;
  }
  if (consumed !== t.length || total <= 0) throw new UsageError(`${flag} must be a duration such as 90s, 5m or 1h30m, got "${text}"`);
  return Math.round(total);
}

/** Prints an error of a manager call (message, field violations) and returns the exit status. */
export function reportError(name: string, error: unknown, io: CliIo): ExitCode {
  if (error instanceof ConnectError) {
    const violations = fieldViolationsOf(error);
    io.stderr.write(`${name}: ${error.rawMessage} (${Code[error.code] ?? error.code})\n`);
    if (violations.length > 0 && !violations.every((v) => error.rawMessage.includes(v.description))) {
      for (const v of violations) io.stderr.write(`  ${v.field}: ${v.description}\n`);
    }
    return ExitCode.failure;
  }
  throw error;
}

/** Proto JSON (field names as in the .proto) of a message, for -o json|yaml. */
export function protoJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): unknown {
  return toJson(schema, message, { registry: contractRegistry, useProtoFieldName: true });
}

export { vendorDataRegistry };
