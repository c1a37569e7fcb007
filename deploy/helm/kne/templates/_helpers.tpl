{{/* Names, labels and images shared by every template. */}}

{{- define "kne.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-kne, or the release name alone when it already says kne; short enough for "-config-bootstrapper". */}}
{{- define "kne.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kne.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries; `helm uninstall` checks use app.kubernetes.io/instance. */}}
{{- define "kne.labels" -}}
helm.sh/chart: {{ include "kne.chart" . }}
app.kubernetes.io/name: {{ include "kne.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kne
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one app: (dict "root" $ "component" "topology-manager"). */}}
{{- define "kne.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kne.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kne.componentLabels" -}}
{{ include "kne.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* repository:tag of one app's image; the tag defaults to the chart's appVersion. */}}
{{- define "kne.image" -}}
{{- $img := .image -}}
{{- if not $img.repository -}}{{- fail (printf "images.%s.repository must not be empty" .key) -}}{{- end -}}
{{- printf "%s:%s" $img.repository (toString (default .root.Chart.AppVersion $img.tag)) -}}
{{- end -}}

{{- define "kne.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (printf "%s-topology-manager" (include "kne.fullname" .)) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the API token, and its key. */}}
{{- define "kne.tokenSecretName" -}}
{{- default (printf "%s-api-token" (include "kne.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}
{{- define "kne.tokenSecretKey" -}}
{{- if .Values.auth.existingSecret -}}{{- .Values.auth.existingSecretKey -}}{{- else -}}token{{- end -}}
{{- end -}}

{{/* The log level, checked: the apps refuse anything else at start, which is later and quieter. */}}
{{- define "kne.logLevel" -}}
{{- $levels := list "fatal" "error" "warn" "info" "debug" "trace" "silent" -}}
{{- if not (has .Values.logLevel $levels) -}}
{{- fail (printf "logLevel %q: must be one of %s" .Values.logLevel (join ", " $levels)) -}}
{{- end -}}
{{- .Values.logLevel -}}
{{- end -}}

{{/* securityContext of the non-root apps: no privileges, read-only root file system. */}}
{{- define "kne.restrictedContainerSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsGroup }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Probes on one gRPC port (grpc.health.v1, the whole server: service ""). The kubelet's gRPC
probe speaks cleartext HTTP/2 only, so with TLS on the port (the manager's tls.enabled) the
probes are TCP connects: they see the port open, not NOT_SERVING during shutdown.
(dict "root" $ "port" 50051 "tls" false)
*/}}
{{- define "kne.probes" -}}
{{- $check := dict "grpc" (dict "port" (int .port) "service" "") -}}
{{- if .tls -}}{{- $check = dict "tcpSocket" (dict "port" (int .port)) -}}{{- end -}}
{{- $p := .root.Values.probes -}}
startupProbe:
{{- toYaml (merge (dict) $check $p.startup) | nindent 2 }}
readinessProbe:
{{- toYaml (merge (dict) $check $p.readiness) | nindent 2 }}
livenessProbe:
{{- toYaml (merge (dict) $check $p.liveness) | nindent 2 }}
{{- end -}}

{{/* Common args of every app: listen on all of the pod's addresses, the log level. */}}
{{- define "kne.serverArgs" -}}
- --host
- {{ .host | quote }}
- --port
- {{ .port | quote }}
- --log-level
- {{ include "kne.logLevel" .root }}
{{- end -}}
