/**
 * What the parser needs of a message or enum descriptor, computed once per descriptor:
 * fields by their text format name (looked up by a slice of the input without copying it),
 * and a fast way to make zero messages.
 */
import { create, ScalarType, type DescEnum, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { fieldTextName } from "./names";

/** A message under construction: protobuf-es's plain object, written by property name. */
export type MessageObject = Message & Record<string, unknown>;

const FIELD_PRESENCE_LEGACY_REQUIRED = 3;

export interface FieldSlot {
  readonly field: DescField;
  /** Position in the message's fields, for the set-once bookkeeping. */
  readonly index: number;
  readonly textName: string;
  readonly localName: string;
  /** The property holding the oneof's `{ case, value }`, when the field is in a oneof. */
  readonly oneofLocalName: string | undefined;
  /** 64-bit integers are kept as strings (jstype = JS_STRING) instead of bigints. */
  readonly longAsString: boolean;
  /**
   * Message values that protobuf-es does not keep as plain messages (wrapper types are
   * unwrapped, Struct becomes a JSON object): these are set through reflection.
   */
  readonly convertedMessage: boolean;
}

export interface MessageInfo {
  readonly desc: DescMessage;
  readonly slots: readonly FieldSlot[];
  /** Slots by the length of their text name: a lookup compares only names that can match. */
  readonly slotsByNameLength: readonly (readonly FieldSlot[] | undefined)[];
  readonly reservedNames: ReadonlySet<string>;
  readonly required: readonly FieldSlot[];
  readonly isAny: boolean;
  /** Makes a zero message of this type. */
  readonly newMessage: () => MessageObject;
}

const messageInfoCache = new WeakMap<DescMessage, MessageInfo>();

export function messageInfo(desc: DescMessage): MessageInfo {
  let info = messageInfoCache.get(desc);
  if (info === undefined) {
    info = buildMessageInfo(desc);
    messageInfoCache.set(desc, info);
  }
  return info;
}

function buildMessageInfo(desc: DescMessage): MessageInfo {
  const slots = desc.fields.map((field, index): FieldSlot => {
    const message = field.message;
    return {
      field,
      index,
      textName: fieldTextName(field),
      localName: field.localName,
      oneofLocalName: field.oneof?.localName,
      longAsString: "longAsString" in field && field.longAsString === true,
      convertedMessage:
        message !== undefined &&
        ((field.fieldKind === "message" && field.oneof === undefined && isWrapperDesc(message)) ||
          (message.typeName === "google.protobuf.Struct" && desc.typeName !== "google.protobuf.Value")),
    };
  });
  const slotsByNameLength: FieldSlot[][] = [];
  for (const slot of slots) (slotsByNameLength[slot.textName.length] ??= []).push(slot);
  return {
    desc,
    slots,
    slotsByNameLength,
    reservedNames: new Set(desc.proto.reservedName),
    required: slots.filter((slot) => slot.field.presence === FIELD_PRESENCE_LEGACY_REQUIRED),
    isAny: desc.typeName === "google.protobuf.Any",
    newMessage: zeroMessageFactory(desc),
  };
}

/** The field whose text name is `text[start, end)`, if any. */
export function findField(info: MessageInfo, text: string, start: number, end: number): FieldSlot | undefined {
  const candidates = info.slotsByNameLength[end - start];
  if (candidates === undefined) return undefined;
  for (const slot of candidates) {
    if (text.startsWith(slot.textName, start)) return slot;
  }
  return undefined;
}

/**
 * `create(desc)` decides per field, on every call, which zero value to set; for a large
 * topology that is a tenth of the parse. Copying a zero message made once is the same
 * object, faster. Messages that keep defaults on a prototype chain (proto2, some editions
 * messages) are left to `create`.
 */
function zeroMessageFactory(desc: DescMessage): () => MessageObject {
  const template = create(desc) as MessageObject;
  if (Object.getPrototypeOf(template) !== Object.prototype) return () => create(desc) as MessageObject;
  const freshLists: string[] = [];
  const freshMaps: string[] = [];
  const freshOneofs: string[] = [];
  const freshBytes: string[] = [];
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      freshOneofs.push(member.localName);
    } else if (member.fieldKind === "list") {
      freshLists.push(member.localName);
    } else if (member.fieldKind === "map") {
      freshMaps.push(member.localName);
    } else if (member.fieldKind === "scalar" && member.scalar === ScalarType.BYTES && member.localName in template) {
      freshBytes.push(member.localName);
    }
  }
  return () => {
    const message: MessageObject = { ...template };
    for (const name of freshLists) message[name] = [];
    for (const name of freshMaps) message[name] = {};
    for (const name of freshOneofs) message[name] = { case: undefined };
    for (const name of freshBytes) message[name] = new Uint8Array(0);
    return message;
  };
}

export interface EnumInfo {
  readonly desc: DescEnum;
  readonly valuesByNameLength: readonly (readonly { name: string; number: number }[] | undefined)[];
}

const enumInfoCache = new WeakMap<DescEnum, EnumInfo>();

export function enumInfo(desc: DescEnum): EnumInfo {
  let info = enumInfoCache.get(desc);
  if (info === undefined) {
    const valuesByNameLength: { name: string; number: number }[][] = [];
    for (const { name, number } of desc.values) (valuesByNameLength[name.length] ??= []).push({ name, number });
    info = { desc, valuesByNameLength };
    enumInfoCache.set(desc, info);
  }
  return info;
}

/** The number of the enum value named `text[start, end)`, if any. */
export function findEnumValue(info: EnumInfo, text: string, start: number, end: number): number | undefined {
  const candidates = info.valuesByNameLength[end - start];
  if (candidates === undefined) return undefined;
  for (const value of candidates) {
    if (text.startsWith(value.name, start)) return value.number;
  }
  return undefined;
}
