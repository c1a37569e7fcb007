/**
 * Test fixtures: where upstream's example topologies are, and descriptors that cover what
 * the topology protos do not (every scalar type, every map key type, jstype strings,
 * wrappers, proto2 required fields, closed enums, groups and default values). The
 * descriptors are written in text format and read with protobuf-es's own text format
 * reader, so that they do not depend on the code under test.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createFileRegistry, type DescEnum, type DescMessage } from "@bufbuild/protobuf";
import { fromText } from "@bufbuild/protobuf/txtpb";
import {
  file_google_protobuf_any,
  file_google_protobuf_struct,
  file_google_protobuf_wrappers,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";

function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "nx.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("no nx.json above this file");
    dir = parent;
  }
  return dir;
}

/** Upstream KNE's examples, kept beside the repository in `../shared` (read-only). */
export const upstreamExamplesRoot = path.join(repositoryRoot(), "..", "shared", "kne-compat", "upstream-examples");

function field(name: string, number: number, type: string, extra = ""): string {
  const jsonName = name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return `field { name: "${name}" json_name: "${jsonName}" number: ${number} label: LABEL_OPTIONAL type: ${type} ${extra} }`;
}

function repeated(name: string, number: number, type: string, extra = ""): string {
  return field(name, number, type, extra).replace("LABEL_OPTIONAL", "LABEL_REPEATED");
}

function mapField(name: string, number: number, entry: string, keyType: string, valueType: string, valueExtra = ""): string {
  return `
    ${repeated(name, number, "TYPE_MESSAGE", `type_name: ".tftest.Scalars.${entry}"`)}
    nested_type {
      name: "${entry}"
      ${field("key", 1, keyType)}
      ${field("value", 2, valueType, valueExtra)}
      options { map_entry: true }
    }`;
}

const allProto = `
name: "tftest/all.proto"
package: "tftest"
syntax: "proto3"
dependency: "google/protobuf/any.proto"
dependency: "google/protobuf/wrappers.proto"
dependency: "google/protobuf/struct.proto"
enum_type {
  name: "Color"
  value { name: "COLOR_UNSPECIFIED" number: 0 }
  value { name: "RED" number: 1 }
  value { name: "GREEN" number: 2 }
}
message_type {
  name: "Scalars"
  ${field("f_double", 1, "TYPE_DOUBLE")}
  ${field("f_float", 2, "TYPE_FLOAT")}
  ${field("f_int32", 3, "TYPE_INT32")}
  ${field("f_int64", 4, "TYPE_INT64")}
  ${field("f_uint32", 5, "TYPE_UINT32")}
  ${field("f_uint64", 6, "TYPE_UINT64")}
  ${field("f_sint32", 7, "TYPE_SINT32")}
  ${field("f_sint64", 8, "TYPE_SINT64")}
  ${field("f_fixed32", 9, "TYPE_FIXED32")}
  ${field("f_fixed64", 10, "TYPE_FIXED64")}
  ${field("f_sfixed32", 11, "TYPE_SFIXED32")}
  ${field("f_sfixed64", 12, "TYPE_SFIXED64")}
  ${field("f_bool", 13, "TYPE_BOOL")}
  ${field("f_string", 14, "TYPE_STRING")}
  ${field("f_bytes", 15, "TYPE_BYTES")}
  ${field("f_enum", 16, "TYPE_ENUM", 'type_name: ".tftest.Color"')}
  ${field("f_message", 17, "TYPE_MESSAGE", 'type_name: ".tftest.Scalars"')}
  ${repeated("r_int32", 20, "TYPE_INT32")}
  ${repeated("r_string", 21, "TYPE_STRING")}
  ${repeated("r_enum", 22, "TYPE_ENUM", 'type_name: ".tftest.Color"')}
  ${repeated("r_message", 23, "TYPE_MESSAGE", 'type_name: ".tftest.Scalars"')}
  ${repeated("r_double", 24, "TYPE_DOUBLE")}
  ${repeated("r_bytes", 25, "TYPE_BYTES")}
  ${repeated("r_int64", 26, "TYPE_INT64")}
  ${mapField("m_string", 30, "MStringEntry", "TYPE_STRING", "TYPE_STRING")}
  ${mapField("m_int32", 31, "MInt32Entry", "TYPE_INT32", "TYPE_STRING")}
  ${mapField("m_int64", 32, "MInt64Entry", "TYPE_INT64", "TYPE_MESSAGE", 'type_name: ".tftest.Scalars"')}
  ${mapField("m_uint64", 33, "MUint64Entry", "TYPE_UINT64", "TYPE_INT32")}
  ${mapField("m_bool", 34, "MBoolEntry", "TYPE_BOOL", "TYPE_ENUM", 'type_name: ".tftest.Color"')}
  ${mapField("m_uint32", 35, "MUint32Entry", "TYPE_UINT32", "TYPE_BYTES")}
  ${field("o_string", 40, "TYPE_STRING", "oneof_index: 0")}
  ${field("o_message", 41, "TYPE_MESSAGE", 'type_name: ".tftest.Scalars" oneof_index: 0')}
  ${field("o_int32", 42, "TYPE_INT32", "oneof_index: 0")}
  ${field("f_any", 50, "TYPE_MESSAGE", 'type_name: ".google.protobuf.Any"')}
  ${field("f_int64_string", 51, "TYPE_INT64", "options { jstype: JS_STRING }")}
  ${field("f_wrapper", 52, "TYPE_MESSAGE", 'type_name: ".google.protobuf.Int32Value"')}
  ${field("f_optional", 53, "TYPE_INT32", "oneof_index: 1 proto3_optional: true")}
  ${field("f_struct", 54, "TYPE_MESSAGE", 'type_name: ".google.protobuf.Struct"')}
  ${repeated("r_wrapper", 55, "TYPE_MESSAGE", 'type_name: ".google.protobuf.StringValue"')}
  oneof_decl { name: "choice" }
  oneof_decl { name: "_f_optional" }
  reserved_range { start: 60 end: 61 }
  reserved_name: "old_name"
}
`;

const legacyProto = `
name: "tftest/legacy.proto"
package: "tftest"
syntax: "proto2"
enum_type {
  name: "Shade"
  value { name: "DARK" number: 1 }
  value { name: "LIGHT" number: 2 }
}
message_type {
  name: "Legacy"
  field { name: "id" json_name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_STRING }
  field { name: "shade" json_name: "shade" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".tftest.Shade" }
  field { name: "mygroup" json_name: "mygroup" number: 3 label: LABEL_OPTIONAL type: TYPE_GROUP type_name: ".tftest.Legacy.MyGroup" }
  field { name: "with_default" json_name: "withDefault" number: 4 label: LABEL_OPTIONAL type: TYPE_INT32 default_value: "7" }
  field { name: "raw" json_name: "raw" number: 5 label: LABEL_OPTIONAL type: TYPE_BYTES }
  nested_type {
    name: "MyGroup"
    field { name: "value" json_name: "value" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
  }
}
`;

const registry = createFileRegistry(
  fromText(FileDescriptorProtoSchema, allProto),
  (name) =>
    ({
      "google/protobuf/any.proto": file_google_protobuf_any,
      "google/protobuf/wrappers.proto": file_google_protobuf_wrappers,
      "google/protobuf/struct.proto": file_google_protobuf_struct,
    })[name],
);
const legacyRegistry = createFileRegistry(fromText(FileDescriptorProtoSchema, legacyProto), () => undefined);

function message(reg: typeof registry, name: string): DescMessage {
  const desc = reg.getMessage(name);
  if (desc === undefined) throw new Error(`test schema has no ${name}`);
  return desc;
}

function enumeration(reg: typeof registry, name: string): DescEnum {
  const desc = reg.getEnum(name);
  if (desc === undefined) throw new Error(`test schema has no ${name}`);
  return desc;
}

/** Every proto3 field shape. */
export const ScalarsSchema = message(registry, "tftest.Scalars");
export const ColorEnum = enumeration(registry, "tftest.Color");
/** proto2: required field, closed enum, group, default value. */
export const LegacySchema = message(legacyRegistry, "tftest.Legacy");
/** Resolves Any values of the test types. */
export const testRegistry = registry;
