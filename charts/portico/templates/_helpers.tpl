{{/* The chart's name, for the name label and the pod selector. */}}
{{- define "portico.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Names of the release's objects: the release name when it contains the chart's name (`portico` gives `portico`). */}}
{{- define "portico.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "portico.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "portico.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "portico.serviceAccountName" -}}
{{- default (include "portico.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The leader-election Lease: the operator's --lease-name and the one Lease its Role may update. */}}
{{- define "portico.leaseName" -}}
{{- printf "%s-operator" (include "portico.fullname" .) -}}
{{- end -}}

{{/*
The pod selector, which is also the Gateways' Services' selector (--service-selector). Only the name label: a
Deployment's selector cannot change, and manifests/base selected on it before the chart existed. One release per
namespace.
*/}}
{{- define "portico.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portico.name" . }}
{{- end -}}

{{- define "portico.labels" -}}
{{ include "portico.selectorLabels" . }}
{{- end -}}

{{- define "portico.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The operator's rights on the Gateway API kinds, in a namespace (Role) or everywhere (ClusterRole): shared by
rbac-cluster.yaml and rbac-namespaced.yaml, so a new kind or verb is added once. */}}
{{- define "portico.gatewayApiRules" -}}
- apiGroups: [gateway.networking.k8s.io]
  resources: [{{ if .cluster }}gatewayclasses, {{ end }}gateways, listenersets, httproutes, grpcroutes, tlsroutes, tcproutes, udproutes, referencegrants, backendtlspolicies]
  verbs: [list, watch]
# A route's status.parents and a policy's status.ancestors are shared with other controllers: after a 409 Conflict
# the object is read again.
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes, grpcroutes, tlsroutes, tcproutes, udproutes, backendtlspolicies]
  verbs: [get]
- apiGroups: [gateway.networking.k8s.io]
  resources: [{{ if .cluster }}gatewayclasses/status, {{ end }}gateways/status, httproutes/status, grpcroutes/status, tlsroutes/status, tcproutes/status, udproutes/status, backendtlspolicies/status, listenersets/status]
  verbs: [patch]
# XTelemetryPolicy and XBackendTrafficPolicy (experimental channel; not watched when their CRDs are absent): read, and its status.ancestors shared.
- apiGroups: [gateway.networking.x-k8s.io]
  resources: [xtelemetrypolicies, xbackendtrafficpolicies]
  verbs: [list, watch, get]
- apiGroups: [gateway.networking.x-k8s.io]
  resources: [xtelemetrypolicies/status, xbackendtrafficpolicies/status]
  verbs: [patch]
- apiGroups: [""]
  resources: [services, secrets, configmaps{{ if .cluster }}, namespaces{{ end }}]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
{{- if .cluster }}
{{ include "portico.crdRules" . }}
{{ include "portico.trustBundleRules" . }}
{{- end }}
# Events about the Gateway API objects, in their own namespaces{{ if .cluster }} (about GatewayClasses: in `default`){{ end }}.
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end -}}

{{/* ClusterTrustBundles (cluster-scoped: in a ClusterRole only). */}}
{{- define "portico.trustBundleRules" -}}
# CA certificates named by caCertificateRefs (GEP-5075): certificates.k8s.io ClusterTrustBundles, cluster-scoped.
# Kubernetes grants this to every authenticated user (system:cluster-trust-bundle-discovery); said here for clusters
# that removed that binding. Where the API is not served, the operator watches nothing and claims no ClusterTrustBundle.
- apiGroups: [certificates.k8s.io]
  resources: [clustertrustbundles]
  verbs: [list, watch]
{{- end -}}

{{/* Reading the Gateway API CRDs Portico serves, by name (cluster-scoped: in a ClusterRole only). */}}
{{- define "portico.crdRules" -}}
# The installed Gateway API release (the GatewayClass's SupportedVersion, from the CRDs' bundle-version annotation)
# and whether a kind's CRD is installed: only the Gateway API CRDs Portico reads, by name (operator/kubernetes/crds.ts).
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  resourceNames: [gatewayclasses.gateway.networking.k8s.io, gateways.gateway.networking.k8s.io, httproutes.gateway.networking.k8s.io, grpcroutes.gateway.networking.k8s.io, tlsroutes.gateway.networking.k8s.io, tcproutes.gateway.networking.k8s.io, udproutes.gateway.networking.k8s.io, listenersets.gateway.networking.k8s.io, referencegrants.gateway.networking.k8s.io, backendtlspolicies.gateway.networking.k8s.io, xtelemetrypolicies.gateway.networking.x-k8s.io, xbackendtrafficpolicies.gateway.networking.x-k8s.io]
  verbs: [list, watch]
{{- end -}}

{{/* The ServiceAccount as an RBAC subject. */}}
{{- define "portico.subject" -}}
- kind: ServiceAccount
  name: {{ include "portico.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}
