import { toBinary, type DescEnum, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { reflectionv1, reflectionv1alpha } from "@kne/proto";
import { serviceRegistration, type ServiceRegistration } from "./service-registration";

/** What a client asks over the reflection stream, the same in v1 and v1alpha. */
export type ReflectionQuery =
  | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: undefined; value?: undefined };

/** What the server answers, the same in v1 and v1alpha. */
export type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * The descriptors a server can describe: the files of its services and every file they
 * import, indexed by file name, by fully-qualified symbol and by extended message.
 *
 * The descriptors are the ones embedded in the generated code. protoc-gen-es strips
 * source info (comments) and redundant json names from them; the runtime restores the
 * json names and imports, so what clients get is complete for calling methods.
 */
export class DescriptorIndex {
  readonly #services: string[];
  readonly #files = new Map<string, DescFile>();
  readonly #symbols = new Map<string, DescFile>();
  readonly #extensions = new Map<string, Map<number, DescFile>>();
  readonly #encoded = new Map<DescFile, Uint8Array>();

  constructor(services: readonly DescService[], extraFiles: readonly DescFile[] = []) {
    this.#services = [...new Set(services.map((s) => s.typeName))].sort();
    for (const s of services) this.#addFile(s.file);
    for (const f of extraFiles) this.#addFile(f);
  }

  /** Answers one reflection request. */
  answer(query: ReflectionQuery): ReflectionAnswer {
    switch (query.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.#services.map((name) => ({ name })) } };
      case "fileByFilename": {
        const file = this.#files.get(query.value);
        return file ? this.#fileResponse(file) : notFound(`file "${query.value}" not found`);
      }
      case "fileContainingSymbol": {
        const file = this.#symbols.get(stripLeadingDot(query.value));
        return file ? this.#fileResponse(file) : notFound(`symbol "${query.value}" not found`);
      }
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = query.value;
        const file = this.#extensions.get(stripLeadingDot(containingType))?.get(extensionNumber);
        return file ? this.#fileResponse(file) : notFound(`extension ${extensionNumber} of "${containingType}" not found`);
      }
      case "allExtensionNumbersOfType": {
        const typeName = stripLeadingDot(query.value);
        if (!this.#symbols.has(typeName)) return notFound(`type "${query.value}" not found`);
        const numbers = [...(this.#extensions.get(typeName)?.keys() ?? [])].sort((a, b) => a - b);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: typeName, extensionNumber: numbers } };
      }
      default:
        return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "the request asked nothing" } };
    }
  }

  /**
   * The file first, then everything it imports, transitively: clients resolve a file's
   * imports from the same response and need not ask again.
   */
  #fileResponse(file: DescFile): ReflectionAnswer {
    const ordered: DescFile[] = [];
    const seen = new Set<DescFile>();
    const visit = (f: DescFile): void => {
      if (seen.has(f)) return;
      seen.add(f);
      ordered.push(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: ordered.map((f) => this.#encode(f)) } };
  }

  #encode(file: DescFile): Uint8Array {
    let bytes = this.#encoded.get(file);
    if (bytes === undefined) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.#encoded.set(file, bytes);
    }
    return bytes;
  }

  #addFile(file: DescFile): void {
    // DescFile.name lacks the ".proto" suffix; clients ask for the import path.
    const fileName = file.proto.name;
    if (this.#files.has(fileName)) return;
    this.#files.set(fileName, file);
    file.dependencies.forEach((d) => this.#addFile(d));
    const symbol = (name: string): void => void this.#symbols.set(name, file);
    const addEnum = (e: DescEnum): void => {
      symbol(e.typeName);
      // Enum values are scoped beside their enum, as in C++ (pkg.VALUE, not pkg.Enum.VALUE).
      const scope = e.typeName.slice(0, e.typeName.length - e.name.length);
      for (const v of e.values) symbol(scope + v.name);
    };
    const addMessage = (m: DescMessage): void => {
      symbol(m.typeName);
      for (const f of m.fields) symbol(`${m.typeName}.${f.name}`);
      for (const o of m.oneofs) symbol(`${m.typeName}.${o.name}`);
      m.nestedMessages.forEach(addMessage);
      m.nestedEnums.forEach(addEnum);
      for (const x of m.nestedExtensions) this.#addExtension(x.typeName, x.extendee.typeName, x.number, file);
    };
    file.messages.forEach(addMessage);
    file.enums.forEach(addEnum);
    for (const x of file.extensions) this.#addExtension(x.typeName, x.extendee.typeName, x.number, file);
    for (const s of file.services) {
      symbol(s.typeName);
      for (const m of s.methods) symbol(`${s.typeName}.${m.name}`);
    }
  }

  #addExtension(typeName: string, extendee: string, number: number, file: DescFile): void {
    this.#symbols.set(typeName, file);
    let byNumber = this.#extensions.get(extendee);
    if (byNumber === undefined) this.#extensions.set(extendee, (byNumber = new Map()));
    byNumber.set(number, file);
  }
}

function notFound(errorMessage: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage } };
}

function stripLeadingDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}

/**
 * The standard server reflection services, `grpc.reflection.v1.ServerReflection` and the
 * older `grpc.reflection.v1alpha.ServerReflection` (grpcurl and older clients still ask
 * for it), over one index. Each request on the stream gets one response, in order.
 */
export function createReflectionServices(index: DescriptorIndex): ServiceRegistration[] {
  return [
    serviceRegistration(reflectionv1.ServerReflection, {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield { validHost: req.host, originalRequest: req, messageResponse: index.answer(req.messageRequest) };
        }
      },
    }),
    serviceRegistration(reflectionv1alpha.ServerReflection, {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield { validHost: req.host, originalRequest: req, messageResponse: index.answer(req.messageRequest) };
        }
      },
    }),
  ];
}

/** The reflection services' descriptors, for health and for reflection's own listing. */
export const reflectionServices: readonly DescService[] = [reflectionv1.ServerReflection, reflectionv1alpha.ServerReflection];
