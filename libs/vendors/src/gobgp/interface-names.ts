/**
 * GoBGP: links name Linux interfaces, as written (gobgpd names no interfaces).
 */
import { namesAsWritten } from "../interface-naming";

export const gobgpInterfaceNaming = namesAsWritten("Linux interface names as written (eth1, ...)");
