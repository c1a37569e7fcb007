/**
 * HOST: links name the Linux interfaces of the node's namespace (pod), as written.
 */
import { namesAsWritten } from "../interface-naming";

export const hostInterfaceNaming = namesAsWritten("Linux interface names as written (eth1, ...)");
