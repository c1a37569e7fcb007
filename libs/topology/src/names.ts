/**
 * Rules for the names a topology hands to Kubernetes and to the kernel. Each check returns
 * why a name is not acceptable, or undefined when it is, so that callers can say why.
 */

const rfc1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A Kubernetes namespace, pod or label-like name (RFC 1123 label). Such a name is also a
 * safe file name and network-namespace name: no `/`, no `.`, never `.` or `..`.
 */
export function rfc1123LabelProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (name.length > 63) return `must be at most 63 characters (has ${name.length})`;
  if (!rfc1123Label.test(name)) {
    return "must consist of lowercase letters, digits and '-', and start and end with a letter or digit (RFC 1123 label)";
  }
  return undefined;
}

/** IFNAMSIZ is 16 bytes including the terminating NUL. */
const maxInterfaceNameBytes = 15;

/**
 * A Linux network interface name, as the kernel's dev_valid_name() accepts it: 1 to 15
 * bytes, not `.` or `..`, no `/`, `:` or whitespace. Control characters are refused too:
 * the kernel would take them, but no tool prints them legibly.
 */
export function linuxInterfaceNameProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > maxInterfaceNameBytes) return `must be at most ${maxInterfaceNameBytes} bytes (has ${bytes}), the Linux limit`;
  if (name === "." || name === "..") return `must not be "${name}"`;
  if (name.includes("/")) return "must not contain '/'";
  if (name.includes(":")) return "must not contain ':'";
  if (/\s/.test(name)) return "must not contain whitespace";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return "must not contain control characters";
  return undefined;
}

/** A file name inside a node (a ConfigMap key upstream): letters, digits, `-`, `_`, `.`. */
export function configFileNameProblem(name: string): string | undefined {
  if (name.length > 253) return `must be at most 253 characters (has ${name.length})`;
  if (name === "." || name === "..") return `must not be "${name}"`;
  if (!/^[-._a-zA-Z0-9]+$/.test(name)) return "must consist of letters, digits, '-', '_' and '.' (it becomes a file name)";
  return undefined;
}

const labelName = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes label key: an optional DNS-subdomain prefix and `/`, then a name of up to 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !dnsSubdomain.test(prefix))) {
    return "prefix must be a DNS subdomain (for example example.com/name)";
  }
  if (name === "" || name.length > 63 || !labelName.test(name)) {
    return "must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  }
  return undefined;
}

/** A Kubernetes label value: empty, or up to 63 letters, digits, `-`, `_`, `.` starting and ending alphanumeric. */
export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63 || !labelName.test(value)) {
    return "must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  }
  return undefined;
}

/**
 * A kernel parameter name as sysctl writes it (`net.ipv4.ip_forward`, or with `/`). It
 * becomes a path under /proc/sys, so `..` and absolute paths are refused.
 */
export function sysctlNameProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (!/^[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)*$/.test(name)) {
    return "must be a kernel parameter name such as net.ipv4.ip_forward";
  }
  return undefined;
}
