package cluster

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// smiTrafficSplitCRD defines the SMI TrafficSplit (split.smi-spec.io) in
// the versions Argo Rollouts' --traffic-split-api-version accepts. No Go
// module carries a CRD an API server of today accepts (smi-sdk-go ships an
// apiextensions/v1beta1 CRD serving only v1alpha4), so this one is written
// from the SMI specification: every version served, the spec kept as
// written, v1alpha1 stored (the versions share one shape for what Serin
// writes: service, backends with service and weight).
const smiTrafficSplitCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: trafficsplits.split.smi-spec.io
spec:
  group: split.smi-spec.io
  scope: Namespaced
  names: {kind: TrafficSplit, listKind: TrafficSplitList, plural: trafficsplits, singular: trafficsplit, shortNames: [ts]}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1alpha2
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1alpha3
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// smiCRD is the SMI TrafficSplit CRD as an object to apply.
func smiCRD() (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	return u, yaml.Unmarshal([]byte(smiTrafficSplitCRD), &u.Object)
}
