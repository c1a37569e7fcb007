/**
 * Clients for the agents at the far ends of cross-host wires: gRPC over cleartext HTTP/2
 * with @kne/rpc's lean unary transport (one raw HTTP/2 session per peer address; peers
 * only make unary calls), closed on shutdown and after a minute without calls.
 */
import { type Client, createClient } from "@connectrpc/connect";
import { agentv1 } from "@kne/proto";
import { createFastGrpcTransport, type FastGrpcTransport } from "@kne/rpc";

/** What the agent calls on a peer. */
export type PeerClient = Pick<Client<typeof agentv1.AgentService>, "prepareTunnel">;

/** Makes (or returns a cached) client for a peer agent at `host:port`. */
export type PeerClientFactory = (agentAddress: string) => PeerClient;

export interface PeerClients {
  factory: PeerClientFactory;
  close(): void;
}

/** The default: plain-text gRPC to `http://<agentAddress>`. */
export function createPeerClients(): PeerClients {
  const clients = new Map<string, { client: PeerClient; transport: FastGrpcTransport }>();
  return {
    factory(agentAddress) {
      let entry = clients.get(agentAddress);
      if (!entry) {
        const transport = createFastGrpcTransport({ baseUrl: `http://${agentAddress}`, idleConnectionTimeoutMs: 60_000 });
        entry = { client: createClient(agentv1.AgentService, transport), transport };
        clients.set(agentAddress, entry);
      }
      return entry.client;
    },
    close() {
      for (const { transport } of clients.values()) void transport.close();
      clients.clear();
    },
  };
}
