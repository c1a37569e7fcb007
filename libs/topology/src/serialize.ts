/**
 * Writing a topology in any of the three formats (for `kne topology convert`). YAML and
 * JSON use proto field names (`a_node`, not `aNode`), as upstream's YAML topologies do,
 * and YAML writes integer map keys bare (`services: {22: ...}`).
 */
import { ScalarType, toJson, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { topo, vendorDataRegistry } from "@kne/proto";
import { stringify } from "yaml";
import type { TopologyFormat } from "./format";
import { toTextFormat } from "./textformat";

/** The topology as text in `format`, ending with a newline. */
export function serializeTopology(topology: topo.Topology, format: TopologyFormat): string {
  switch (format) {
    case "textproto": {
      const text = toTextFormat(topo.TopologySchema, topology, { registry: vendorDataRegistry });
      return text.endsWith("\n") ? text : `${text}\n`;
    }
    case "json":
      return `${JSON.stringify(topologyJson(topology), null, 2)}\n`;
    case "yaml":
      return stringify(withIntegerMapKeys(topo.TopologySchema, topologyJson(topology)), { lineWidth: 0 });
    default:
      throw new TypeError(`serializeTopology: format must be textproto, yaml or json, got ${JSON.stringify(format)}`);
  }
}

function topologyJson(topology: topo.Topology): JsonValue {
  return toJson(topo.TopologySchema, topology, { registry: vendorDataRegistry, useProtoFieldName: true });
}

const integerKeyTypes = new Set([
  ScalarType.INT32,
  ScalarType.UINT32,
  ScalarType.SINT32,
  ScalarType.FIXED32,
  ScalarType.SFIXED32,
]);

/**
 * The JSON mapping turns map keys into strings; YAML can say what they are. 64-bit keys
 * stay strings: YAML readers disagree about integers beyond 2^53.
 */
function withIntegerMapKeys(desc: DescMessage, json: JsonValue): unknown {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return json;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.name === key);
    if (!field) {
      out[key] = value; // "@type" of an Any, or the payload fields handled below.
      continue;
    }
    if (field.fieldKind === "message") out[key] = withIntegerMapKeys(field.message, value);
    else if (field.fieldKind === "list" && field.listKind === "message" && Array.isArray(value)) {
      out[key] = value.map((item) => withIntegerMapKeys(field.message, item));
    } else if (field.fieldKind === "map" && value !== null && typeof value === "object" && !Array.isArray(value)) {
      out[key] = mapWithKeys(field, value);
    } else out[key] = value;
  }
  if (desc.typeName === "google.protobuf.Any" && typeof json["@type"] === "string") {
    const typeUrl = json["@type"];
    const payload = vendorDataRegistry.getMessage(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
    if (payload) return { "@type": typeUrl, ...(withIntegerMapKeys(payload, withoutType(json)) as object) };
  }
  return out;
}

function withoutType(json: JsonObject): JsonObject {
  const rest: JsonObject = { ...json };
  delete rest["@type"];
  return rest;
}

function mapWithKeys(field: Extract<DescMessage["fields"][number], { fieldKind: "map" }>, value: JsonObject): Map<unknown, unknown> {
  const entries = new Map<unknown, unknown>();
  for (const [key, entryValue] of Object.entries(value)) {
    const mapKey = integerKeyTypes.has(field.mapKey) ? Number(key) : key;
    entries.set(mapKey, field.mapKind === "message" ? withIntegerMapKeys(field.message, entryValue) : entryValue);
  }
  return entries;
}
