{{/*
Deployment and Service of an app with no state and no rights in the cluster (the
config-bootstrapper, the service-exposer): non-root, read-only root file system, no
ServiceAccount token, gRPC probes on its API port.
(dict "root" $ "key" "configBootstrapper" "component" "config-bootstrapper" "args" (list ...))
*/}}
{{- define "kne.statelessApp" -}}
{{- $root := .root -}}
{{- $v := index $root.Values .key -}}
{{- $img := index $root.Values.images .key -}}
{{- $sel := dict "root" $root "component" .component -}}
{{- $name := printf "%s-%s" (include "kne.fullname" $root) .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "kne.componentLabels" $sel | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: 0, maxSurge: 1 }
  selector:
    matchLabels:
      {{- include "kne.selectorLabels" $sel | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "kne.selectorLabels" $sel | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $v.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: {{ .component }}
          image: {{ include "kne.image" (dict "root" $root "image" $img "key" .key) }}
          imagePullPolicy: {{ $img.pullPolicy }}
          {{- with $img.command }}
          command:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          args:
            {{- include "kne.serverArgs" (dict "root" $root "host" "0.0.0.0" "port" $v.port) | nindent 12 }}
            {{- with .args }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with $v.extraArgs }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- with $v.extraEnv }}
          env:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          ports:
            - name: grpc
              containerPort: {{ $v.port }}
              protocol: TCP
          {{- include "kne.probes" (dict "root" $root "port" $v.port "tls" false) | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "kne.restrictedContainerSecurity" $v.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: { sizeLimit: 64Mi }
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "kne.componentLabels" $sel | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "kne.selectorLabels" $sel | nindent 4 }}
  ports:
    - name: grpc
      port: {{ $v.port }}
      targetPort: grpc
      protocol: TCP
      appProtocol: kubernetes.io/h2c
{{- end -}}
