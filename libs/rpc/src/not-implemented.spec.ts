import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { managerv1 } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { notImplementedService } from "./index";

describe("notImplementedService", () => {
  const reg = notImplementedService(managerv1.TopologyService, "lands with @kne/manager");
  const client = createClient(
    managerv1.TopologyService,
    createRouterTransport(({ service }) => service(reg.service, reg.impl)),
  );

  it("answers every unary method UNIMPLEMENTED, naming the method and the scope", async () => {
    await expect(client.getTopology({})).rejects.toMatchObject({
      code: Code.Unimplemented,
      rawMessage: "not implemented yet: kne.manager.v1.TopologyService/GetTopology (lands with @kne/manager)",
    });
  });

  it("answers streaming methods the same way", async () => {
    const err = await (async () => {
      for await (const _ of client.watchTopologies({})) {
        /* no messages expected */
      }
    })().catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({
      code: Code.Unimplemented,
      rawMessage: "not implemented yet: kne.manager.v1.TopologyService/WatchTopologies (lands with @kne/manager)",
    });
  });
});
