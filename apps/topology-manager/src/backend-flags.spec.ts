import { FlagError } from "@kne/rpc";
import { describe, expect, it } from "vitest";
import { topologyManagerCommand } from "./app";
import { parseManagerFlags, topologyManagerHelp } from "./manager-options";

const choice = (args: string[], env: Record<string, string> = {}) => {
  const f = parseManagerFlags(args, topologyManagerCommand, env);
  if (f.help) throw new Error("unexpected --help");
  return f.manager.backendChoice;
};

describe("--backend, --kubeconfig, --operator-mode", () => {
  it("defaults to the local backend", () => {
    expect(choice([])).toEqual({ kind: "local", operatorMode: "auto" });
  });

  it("takes the cluster's kubeconfig from the flag, upstream's --kubecfg spelling, or $KUBECONFIG", () => {
    expect(choice(["--backend", "kubernetes", "--kubeconfig", "/etc/kne/kubeconfig", "--operator-mode", "pod"])).toEqual({ kind: "kubernetes", kubeconfig: "/etc/kne/kubeconfig", operatorMode: "pod" });
    expect(choice(["--backend", "kubernetes", "--kubecfg", "/etc/kne/kc"])).toMatchObject({ kubeconfig: "/etc/kne/kc" });
    expect(choice([], { KNE_BACKEND: "kubernetes", KUBECONFIG: "/root/.kube/config" })).toEqual({ kind: "kubernetes", kubeconfig: "/root/.kube/config", operatorMode: "auto" });
    // $KUBECONFIG alone does not move the manager off this host.
    expect(choice([], { KUBECONFIG: "/root/.kube/config" })).toEqual({ kind: "local", operatorMode: "auto" });
  });

  it("only checks the CRDs with --install-crds false (the Helm chart installs them)", () => {
    expect(choice(["--backend", "kubernetes", "--install-crds", "false"])).toEqual({ kind: "kubernetes", operatorMode: "auto", installCrds: false });
    expect(choice(["--backend", "kubernetes", "--install-crds", "true"])).toEqual({ kind: "kubernetes", operatorMode: "auto" });
    expect(choice([], { KNE_BACKEND: "kubernetes", KNE_INSTALL_CRDS: "false" })).toMatchObject({ installCrds: false });
    expect(() => choice(["--backend", "kubernetes", "--install-crds", "no"])).toThrow(/--install-crds "no": must be true or false/);
    expect(() => choice(["--install-crds", "false"])).toThrow(/apply to --backend kubernetes/);
  });

  it("takes the directory of kubeconfigs that requests may name, and how many other clusters to serve", () => {
    expect(choice(["--backend", "kubernetes", "--kubecfg-dir", "/etc/kne/clusters", "--kubecfg-max-clusters", "2"])).toEqual({
      kind: "kubernetes",
      operatorMode: "auto",
      kubecfgDir: "/etc/kne/clusters",
      kubecfgMaxClusters: 2,
    });
    expect(choice([], { KNE_BACKEND: "kubernetes", KNE_KUBECFG_DIR: "/k", KNE_KUBECFG_MAX_CLUSTERS: "8" })).toMatchObject({ kubecfgDir: "/k", kubecfgMaxClusters: 8 });
    expect(() => choice(["--backend", "kubernetes", "--kubecfg-max-clusters", "0"])).toThrow(/--kubecfg-max-clusters must be a whole number from 1 to 64, got "0"/);
    expect(() => choice(["--backend", "kubernetes", "--kubecfg-dir", " "])).toThrow(/--kubecfg-dir must not be empty/);
    expect(() => choice(["--kubecfg-dir", "/k"])).toThrow(/apply to --backend kubernetes/);
  });

  it("refuses what cannot be meant, naming the flag", () => {
    expect(() => choice(["--backend", "k8s"])).toThrow(FlagError);
    expect(() => choice(["--backend", "k8s"])).toThrow(/--backend "k8s": must be local or kubernetes/);
    expect(() => choice([], { KNE_OPERATOR_MODE: "operator" })).toThrow(/\$KNE_OPERATOR_MODE "operator": must be auto, cr or pod/);
    expect(() => choice(["--kubeconfig", "/x"])).toThrow(/apply to --backend kubernetes/);
    expect(() => choice(["--backend", "kubernetes", "--kubeconfig", "/x", "--kubecfg", "/y"])).toThrow(/give one/);
  });

  it("maps images with --image-overrides FROM=TO,... (or $KNE_IMAGE_OVERRIDES), naming a bad entry", () => {
    const c = choice(["--backend", "kubernetes", "--image-overrides", "alpine:latest=localhost/kne/host:ab12,networkop/init-wait:latest=localhost/kne/init-wait:cd34"]);
    expect(c?.imageOverrides).toEqual(new Map([["alpine:latest", "localhost/kne/host:ab12"], ["networkop/init-wait:latest", "localhost/kne/init-wait:cd34"]]));
    expect(choice([], { KNE_BACKEND: "kubernetes", KNE_IMAGE_OVERRIDES: "a:1=b:2" })?.imageOverrides).toEqual(new Map([["a:1", "b:2"]]));
    expect(() => choice(["--backend", "kubernetes", "--image-overrides", "a:1=b:2,c:3"])).toThrow(/--image-overrides: entry 2 "c:3": expected FROM=TO/);
    expect(() => choice([], { KNE_BACKEND: "kubernetes", KNE_IMAGE_OVERRIDES: "a:1=" })).toThrow(/\$KNE_IMAGE_OVERRIDES: entry 1 "a:1=": TO "" is not an image reference/);
    expect(() => choice(["--image-overrides", "a:1=b:2"])).toThrow(/apply to --backend kubernetes/);
  });

  it("explains them in --help", () => {
    const help = topologyManagerHelp(topologyManagerCommand);
    for (const flag of ["--backend", "--kubeconfig", "--operator-mode", "--install-crds", "--kubecfg-dir", "--kubecfg-max-clusters", "--image-overrides"]) expect(help).toContain(flag);
  });
});
