/**
 * Processes we started, identified by pid AND start time (field 22 of /proc/PID/stat), so
 * that a recorded pid reused by the kernel for someone else's process is never signalled.
 */
import { readFileSync } from "node:fs";

export interface ProcessIdentity {
  pid: number;
  /** Clock ticks since boot when it started. */
  startTime: number;
}

/** The start time of a live process, or undefined when there is none with that pid. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19]. A zombie is as good as gone.
    if (fields[0] === "Z") return undefined;
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

export function identify(pid: number): ProcessIdentity | undefined {
  const startTime = processStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/** Whether the recorded process still runs (same pid, same start time). */
export function isAlive(id: ProcessIdentity | undefined): id is ProcessIdentity {
  return id !== undefined && id.pid > 0 && processStartTime(id.pid) === id.startTime;
}

/** Signals the recorded process if it is still the one we started. Returns whether it was. */
export function signalProcess(id: ProcessIdentity | undefined, signal: NodeJS.Signals): boolean {
  if (!isAlive(id)) return false;
  try {
    process.kill(id.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves when every one is gone. */
export async function stopProcesses(ids: readonly (ProcessIdentity | undefined)[], graceMs = 3000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  const live = ids.filter(isAlive);
  for (const id of live) signalProcess(id, signal);
  const deadline = Date.now() + graceMs;
  while (live.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const id of live) signalProcess(id, "SIGKILL");
  const hard = Date.now() + 2000;
  while (live.some(isAlive) && Date.now() < hard) await new Promise((r) => setTimeout(r, 20));
}
