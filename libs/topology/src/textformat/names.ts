/** How fields and types are named in the text format. */
import { ScalarType, type DescField } from "@bufbuild/protobuf";

/**
 * A proto2 group (or an editions field encoded like one) is written with its message type
 * name (`MyGroup { ... }`) instead of the lowercased field name; every other field by its
 * proto name.
 */
export function fieldTextName(field: DescField): string {
  return isGroupLike(field) ? field.message.name : field.name;
}

function isGroupLike(field: DescField): field is DescField & { message: NonNullable<DescField["message"]> } {
  const message = field.message;
  if (message === undefined || field.fieldKind === "map" || !field.delimitedEncoding) return false;
  return message.name.toLowerCase() === field.name && message.file === field.parent.file && message.parent === field.parent;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `IDENT { "." IDENT }`, as the grammar's TypeName. */
export function isValidTypeName(name: string): boolean {
  return name.split(".").every((part) => IDENT.test(part));
}

/** The characters an Any type URL may have in `[...]` when written back. */
export function isWritableTypeUrl(url: string): boolean {
  const slash = url.lastIndexOf("/");
  return slash > 0 && /^[A-Za-z0-9_.\-~%/]+$/.test(url) && isValidTypeName(url.slice(slash + 1));
}

export function scalarTypeName(type: ScalarType): string {
  return ScalarType[type]?.toLowerCase() ?? `scalar type ${type}`;
}
