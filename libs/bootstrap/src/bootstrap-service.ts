/**
 * `kne.bootstrap.v1.BootstrapService` as the config-bootstrapper serves it: certificates
 * are generated here; boot config, push, reset and save are the vendors' own on the local
 * backend (the manager calls them in-process) and belong to the kubernetes backend's pods,
 * so they answer UNIMPLEMENTED saying where they live.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type bootstrapv1, topo } from "@kne/proto";
import { invalidArgument } from "@kne/rpc";
import { certificatePlan } from "./node-certificate.ts";
import { generateSelfSigned } from "./self-signed.ts";

const elsewhere = (method: string) => async (): Promise<never> => {
  throw new ConnectError(
    `${method} is not served by the config-bootstrapper: on the local backend the topology manager applies configs through each vendor's runtime; ` +
      "use kne.manager.v1.NodeService",
    Code.Unimplemented,
  );
};

export function createBootstrapService(): ServiceImpl<typeof bootstrapv1.BootstrapService> {
  return {
    prepareBootConfig: elsewhere("PrepareBootConfig"),
    pushConfig: elsewhere("PushConfig"),
    resetConfig: elsewhere("ResetConfig"),
    saveConfig: elsewhere("SaveConfig"),
    async generateCertificate(req) {
      if (req.node === "") throw invalidArgument("node is required", [{ field: "node", description: "is required" }]);
      // The same defaults and checks as a node's `config.cert.self_signed`.
      const node = create(topo.NodeSchema, {
        name: req.node,
        config: { cert: { config: { case: "selfSigned", value: req.selfSigned ?? create(topo.SelfSignedCertCfgSchema) } } },
      });
      const plan = certificatePlan(node);
      const generated = await generateSelfSigned({
        ...plan.request,
        dnsNames: [...(plan.request.dnsNames ?? []), ...req.dnsNames],
        ipAddresses: [...req.ipAddresses],
      });
      const encoder = new TextEncoder();
      return { certificatePem: encoder.encode(generated.certificatePem), privateKeyPem: encoder.encode(generated.privateKeyPem) };
    },
  };
}
