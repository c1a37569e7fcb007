/**
 * OpenConfig lemming and magna: links name Linux interfaces (`eth1`), as written; lemming
 * counts them for its CR (InterfaceCount).
 */
import { namesAsWritten } from "../interface-naming";

export const openconfigInterfaceNaming = namesAsWritten("Linux interface names as written (eth1, ...)");
