/**
 * BIRD: links name Linux interfaces, as written; BIRD's config uses the same names.
 */
import { namesAsWritten } from "../interface-naming";

export const birdInterfaceNaming = namesAsWritten("Linux interface names as written (eth1, ...); BIRD's config names the same interfaces");
