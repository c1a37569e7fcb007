import { fromBinary } from "@bufbuild/protobuf";
import { file_google_protobuf_descriptor, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { controller, healthv1, managerv1 } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { DescriptorIndex, type ReflectionAnswer } from "./index";

const index = new DescriptorIndex([controller.TopologyManager, healthv1.Health, managerv1.TopologyService]);

function fileNames(answer: ReflectionAnswer): string[] {
  if (answer.case !== "fileDescriptorResponse") throw new Error(`expected files, got ${JSON.stringify(answer)}`);
  return answer.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
}

describe("DescriptorIndex", () => {
  it("lists the services it was given, sorted", () => {
    expect(index.answer({ case: "listServices", value: "" })).toEqual({
      case: "listServicesResponse",
      value: {
        service: [{ name: "controller.TopologyManager" }, { name: "grpc.health.v1.Health" }, { name: "kne.manager.v1.TopologyService" }],
      },
    });
  });

  it("finds files by name with their imports, transitively", () => {
    expect(fileNames(index.answer({ case: "fileByFilename", value: "controller/controller.proto" }))).toEqual([
      "controller/controller.proto",
      "topo/topo.proto",
      "google/protobuf/any.proto",
    ]);
    expect(fileNames(index.answer({ case: "fileByFilename", value: "google/protobuf/any.proto" }))).toEqual([
      "google/protobuf/any.proto",
    ]);
  });

  it.each([
    ["a service", "controller.TopologyManager", "controller/controller.proto"],
    ["a method", "controller.TopologyManager.ShowTopology", "controller/controller.proto"],
    ["a message", "controller.ShowTopologyRequest", "controller/controller.proto"],
    ["a field", "controller.ShowTopologyRequest.topology_name", "controller/controller.proto"],
    ["an enum", "controller.TopologyState", "controller/controller.proto"],
    ["an enum value (scoped beside its enum)", "controller.TOPOLOGY_STATE_RUNNING", "controller/controller.proto"],
    ["a nested enum", "grpc.health.v1.HealthCheckResponse.ServingStatus", "grpc/health/v1/health.proto"],
    ["a nested enum's value", "grpc.health.v1.HealthCheckResponse.SERVING", "grpc/health/v1/health.proto"],
    ["a message of an import", "topo.Topology", "topo/topo.proto"],
    ["a well-known type", "google.protobuf.Any", "google/protobuf/any.proto"],
    ["a name with a leading dot", ".topo.Topology", "topo/topo.proto"],
  ])("finds the file containing %s", (_what, symbol, file) => {
    expect(fileNames(index.answer({ case: "fileContainingSymbol", value: symbol }))[0]).toBe(file);
  });

  it("answers NOT_FOUND in the response, not as a stream error", () => {
    expect(index.answer({ case: "fileContainingSymbol", value: "no.Such" })).toEqual({
      case: "errorResponse",
      value: { errorCode: Code.NotFound, errorMessage: 'symbol "no.Such" not found' },
    });
    expect(index.answer({ case: "fileByFilename", value: "no/such.proto" })).toMatchObject({
      case: "errorResponse",
      value: { errorCode: Code.NotFound },
    });
    expect(index.answer({ case: "fileContainingExtension", value: { containingType: "topo.Topology", extensionNumber: 1000 } })).toMatchObject({
      case: "errorResponse",
      value: { errorCode: Code.NotFound },
    });
    expect(index.answer({ case: undefined })).toMatchObject({ case: "errorResponse", value: { errorCode: Code.InvalidArgument } });
  });

  it("reports extension numbers: none for our messages, NOT_FOUND for unknown types", () => {
    expect(index.answer({ case: "allExtensionNumbersOfType", value: "topo.Topology" })).toEqual({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "topo.Topology", extensionNumber: [] },
    });
    expect(index.answer({ case: "allExtensionNumbersOfType", value: "no.Such" })).toMatchObject({ case: "errorResponse" });
  });

  it("describes extra files given beside the services, e.g. descriptor.proto", () => {
    const withExtra = new DescriptorIndex([healthv1.Health], [file_google_protobuf_descriptor]);
    expect(fileNames(withExtra.answer({ case: "fileContainingSymbol", value: "google.protobuf.FileDescriptorProto" }))).toEqual([
      "google/protobuf/descriptor.proto",
    ]);
  });
});
