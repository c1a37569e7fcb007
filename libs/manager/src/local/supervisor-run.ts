/**
 * The supervisor process (supervisor-main.ts loads it): `kne-supervisor TOPOLOGY` with KNE_STATE_DIR set.
 * Logs (pino JSON lines) go to the topology's supervisor.log.
 */
import { createLogger } from "@kne/telemetry";
import { pino } from "pino";
import { StateStore, resolveStateDir } from "./state-store.ts";
import { runSupervisor } from "./supervisor.ts";

const topology = process.argv[2];
if (!topology) {
  process.stderr.write("usage: kne-supervisor TOPOLOGY (with KNE_STATE_DIR set)\n");
  process.exit(2);
}
const stateDir = resolveStateDir();
const store = new StateStore(stateDir);
const logger = createLogger({ name: "kne-supervisor", destination: pino.destination({ dest: store.supervisorLog(topology), sync: true, mkdir: true }) });
process.on("uncaughtException", (err) => {
  logger.error({ err }, "supervisor failed");
  process.exit(1);
});
await runSupervisor({ stateDir, topology, logger });
process.exit(0);
