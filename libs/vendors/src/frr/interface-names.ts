/**
 * FRR: links name Linux interfaces, as written; FRR's own config uses the same names.
 */
import { namesAsWritten } from "../interface-naming";

export const frrInterfaceNaming = namesAsWritten("Linux interface names as written (eth1, ...); FRR's config names the same interfaces");
