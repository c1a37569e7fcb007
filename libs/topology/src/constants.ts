/** Names with a fixed meaning in every topology. */

/** The interface every node reserves for management; it is never a data link. */
export const managementInterface = "eth0";

/** z_node of a LINK_KIND_HOST_ATTACHMENT link: the machine the topology runs on. */
export const hostAttachmentNode = "host";
