/**
 * Clients for the agents at the far ends of cross-host wires: gRPC over cleartext HTTP/2
 * (connect-node 2.x's gRPC transport is HTTP/2 only, hence no httpVersion option), one
 * connection per peer address, closed on shutdown (an open HTTP/2 session keeps a process
 * alive) and after a minute without calls.
 */
import { type Client, createClient } from "@connectrpc/connect";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import { agentv1 } from "@kne/proto";

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
  const clients = new Map<string, { client: PeerClient; sessions: Http2SessionManager }>();
  return {
    factory(agentAddress) {
      let entry = clients.get(agentAddress);
      if (!entry) {
        const baseUrl = `http://${agentAddress}`;
        const sessions = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 60_000 });
        const transport = createGrpcTransport({ baseUrl, sessionManager: sessions });
        entry = { client: createClient(agentv1.AgentService, transport), sessions };
        clients.set(agentAddress, entry);
      }
      return entry.client;
    },
    close() {
      for (const { sessions } of clients.values()) sessions.abort();
      clients.clear();
    },
  };
}
