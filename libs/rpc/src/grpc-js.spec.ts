// grpc-js is the reference gRPC client of the Node world, with its own HTTP/2 and framing
// code: a unary call from it shows that plain gRPC clients interoperate with startServer.
import { credentials, makeGenericClientConstructor, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { controller, healthv1 } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServingStatus } from "./index";
import { startTestServer, type TestServer } from "./test-fixtures";

function codec<D extends DescMessage>(desc: D) {
  return {
    serialize: (msg: MessageShape<D>): Buffer => Buffer.from(toBinary(desc, msg)),
    deserialize: (bytes: Buffer): MessageShape<D> => fromBinary(desc, bytes),
  };
}

type Unary<Req, Res> = (req: Req, metadata: Metadata, cb: (err: ServiceError | null, res?: Res) => void) => void;

function unaryMethod<I extends DescMessage, O extends DescMessage>(path: string, input: I, output: O) {
  const i = codec(input);
  const o = codec(output);
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: i.serialize,
    requestDeserialize: i.deserialize,
    responseSerialize: o.serialize,
    responseDeserialize: o.deserialize,
  };
}

// Against both of the server's paths for unary calls: the lean one and Connect's adapter.
describe.each([
  ["the fast unary path", true],
  ["Connect's adapter", false],
])("a raw grpc-js client, against %s", (_name, fastUnary) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ fastUnary });
  });
  afterAll(() => t.server.close());

  it("makes unary calls and receives gRPC status codes", async () => {
    const Client = makeGenericClientConstructor(
      {
        Check: unaryMethod("/grpc.health.v1.Health/Check", healthv1.HealthCheckRequestSchema, healthv1.HealthCheckResponseSchema),
        ShowTopology: unaryMethod(
          "/controller.TopologyManager/ShowTopology",
          controller.ShowTopologyRequestSchema,
          controller.ShowTopologyResponseSchema,
        ),
      },
      "Mixed",
    );
    const client = new Client(`127.0.0.1:${t.server.port}`, credentials.createInsecure()) as unknown as {
      Check: Unary<healthv1.HealthCheckRequest, healthv1.HealthCheckResponse>;
      ShowTopology: Unary<controller.ShowTopologyRequest, controller.ShowTopologyResponse>;
      close(): void;
    };
    const call = <Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> =>
      new Promise((resolve, reject) => fn.call(client, req, new Metadata(), (err, res) => (err ? reject(err) : resolve(res!))));
    try {
      const health = await call(client.Check, create(healthv1.HealthCheckRequestSchema, { service: "controller.TopologyManager" }));
      expect(health.status).toBe(ServingStatus.SERVING);
      const shown = await call(client.ShowTopology, create(controller.ShowTopologyRequestSchema, { topologyName: "t1" }));
      expect(shown.topology?.name).toBe("t1");
      const err = (await call(client.ShowTopology, create(controller.ShowTopologyRequestSchema, { topologyName: "missing" })).catch(
        (e: unknown) => e,
      )) as ServiceError;
      expect(err.code).toBe(status.NOT_FOUND);
      expect(err.details).toMatch(/^ENOENT/);
    } finally {
      client.close();
    }
  });
});
