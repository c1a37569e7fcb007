/**
 * FORWARD: links name Linux interfaces as written; the ForwardConfig wires refer to them.
 */
import { namesAsWritten } from "../interface-naming";

export const forwardInterfaceNaming = namesAsWritten("Linux interface names as written (eth1, ...); ForwardConfig wires name the same interfaces");
