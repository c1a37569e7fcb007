/**
 * Every `kne` command, in the order `kne --help` lists them. Adding a command is adding it here.
 *
 * Only the words and the one-line summary live here; a command's module (and what it
 * imports: the manager, the Kubernetes client, YAML...) is loaded when that command runs or
 * shows its help, so `kne --help` and `kne version` load almost nothing (run.spec.ts checks
 * that these lines match the modules).
 */
import type { CommandEntry } from "../command";

export const commands: readonly CommandEntry[] = [
  { words: ["create"], summary: "Create a topology from a file and wait until every node is ready", load: async () => (await import("./create")).createCommand },
  { words: ["delete"], summary: "Delete a topology and everything made for it", load: async () => (await import("./delete")).deleteCommand },
  { words: ["show"], summary: "Show a running topology: nodes, their phase and management addresses, links", load: async () => (await import("./show")).showCommand },
  { words: ["list"], summary: "List topologies with their phase and size", load: async () => (await import("./list")).listCommand },
  { words: ["apply"], summary: "Apply a changed topology file to the running topology (add/remove nodes and links)", load: async () => (await import("./apply")).applyCommand },
  { words: ["watch"], summary: "Follow a topology: node phase changes, restarts, deletion", load: async () => (await import("./watch")).watchCommand },
  { words: ["exec"], summary: "Run a command inside a node (-it for a shell or any interactive command)", load: async () => (await import("./exec")).execCommand },
  { words: ["logs"], summary: "Print the output of a node's processes", load: async () => (await import("./logs")).logsCommand },
  { words: ["graph"], summary: "Draw a topology (file or running) as Graphviz DOT or Mermaid", load: async () => (await import("./graph")).graphCommand },
  { words: ["link", "list"], summary: "List a topology's links: admin and observed state, impairments, counters", load: async () => (await import("./link-list")).linkListCommand },
  { words: ["link", "set"], summary: "Set a link up or down (both endpoints, or one with --endpoint)", load: async () => (await import("./link-set")).linkSetCommand },
  { words: ["link", "impair"], summary: "Impair a link: loss, rate limit (delay, jitter... where the kernel has netem)", load: async () => (await import("./link-impair")).linkImpairCommand },
  { words: ["link", "clear"], summary: "Remove every impairment of a link", load: async () => (await import("./link-clear")).linkClearCommand },
  { words: ["topology", "validate"], summary: "Check topology files and report every problem in them", load: async () => (await import("./topology-validate")).topologyValidateCommand },
  { words: ["topology", "convert"], summary: "Convert a topology between text format, YAML and JSON", load: async () => (await import("./topology-convert")).topologyConvertCommand },
  { words: ["topology", "push"], summary: "Push a config to a running node (FRR: merged over vty; GoBGP: reload)", load: async () => (await import("./topology-push")).topologyPushCommand },
  { words: ["topology", "reset"], summary: "Return a node (or every node) to its boot config", load: async () => (await import("./topology-reset")).topologyResetCommand },
  { words: ["topology", "service"], summary: "Show the nodes' services and the addresses they are reached at", load: async () => (await import("./topology-service")).topologyServiceCommand },
  { words: ["topology", "watch"], summary: "Follow a topology's events (upstream's spelling of 'kne watch')", load: async () => (await import("./topology-watch")).topologyWatchCommand },
  { words: ["topology", "cert"], summary: "Generate a node's self-signed TLS certificate from its config.cert settings", load: async () => (await import("./topology-cert")).topologyCertCommand },
  { words: ["topology", "generate", "ring"], summary: "Generate a ring topology (of hosts, or of clones of a file's first node)", load: async () => (await import("./topology-generate-ring")).topologyGenerateRingCommand },
  { words: ["serve"], summary: "Serve the topology-manager API (gRPC, gRPC-Web, Connect) in the foreground", load: async () => (await import("./serve")).serveCommand },
  { words: ["version"], summary: "Print the version of kne and of the Node.js it runs on", load: async () => (await import("./version")).versionCommand },
];
