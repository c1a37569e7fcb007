/**
 * @kne/helm-chart — checks of the Helm chart deploy/helm/kne: the CRD copy rule, JSON
 * schemas for kubeconform made offline (Kubernetes' OpenAPI and our CRDs), helm and
 * kubeconform runs. The tests under test/ use them; nothing here ships with the chart.
 */
export { chartDir, chartCrdsDir, sourceCrdsDir, repoRoot, crdCopyDifferences } from "./chart-files";
export { crdSchemas, kubernetesSchemas, schemaFileName, schemaLocationTemplate } from "./json-schemas";
export {
  directoryDigest,
  ensureHelm,
  ensureKubeconform,
  ensureKubernetesSchemas,
  helm,
  kubeconform,
  kubernetesVersion,
  manifests,
  renderChart,
  writeCrdSchemas,
} from "./chart-checks";
export type { HelmResult, KubeconformSummary } from "./chart-checks";
