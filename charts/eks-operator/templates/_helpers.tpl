{{/*
The chart name, overridable with nameOverride. Truncated to 63 characters: label values and DNS names stop there.
*/}}
{{- define "eks-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name. The release name alone when it already contains the chart name, so
`helm install eks-operator` gives `eks-operator`, not `eks-operator-eks-operator`.
*/}}
{{- define "eks-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "eks-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "eks-operator.labels" -}}
helm.sh/chart: {{ include "eks-operator.chart" . }}
{{ include "eks-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: eks-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the operator's pods. They must never change between upgrades: a Deployment's selector is
immutable.
*/}}
{{- define "eks-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eks-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "eks-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "eks-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "eks-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
"true" when leader election is on: always with more than one replica (two controllers reconciling the same
object would race on AWS), or when asked for explicitly. Empty otherwise, so it can be used in `if`.
*/}}
{{- define "eks-operator.leaderElection" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{- end }}
{{- end }}

{{/*
The name of the leader Lease.
*/}}
{{- define "eks-operator.leaseName" -}}
{{- default (include "eks-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}
