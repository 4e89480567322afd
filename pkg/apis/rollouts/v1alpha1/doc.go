// Package v1alpha1 holds the Go types of the argoproj.io/v1alpha1 API that Serin
// serves: Rollout, AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun and
// Experiment. Their JSON is identical to what Argo Rollouts reads and writes, so
// existing manifests, the kubectl plugin and Argo CD work unchanged.
//
// The Go field names are part of the contract too. Plugins built for Argo
// Rollouts receive Rollouts, AnalysisRuns, Metrics, Measurements,
// WeightDestinations, SetHeaderRoutes and SetMirrorRoutes over net/rpc,
// which encodes with gob, and gob matches struct fields by their Go names,
// not their JSON names. Every type reachable from those must keep Argo
// Rollouts' Go field names (embedded fields included): a renamed field is
// silently dropped on the other side. TestWireTypesHaveUpstreamsGoFieldNames
// holds the list.
//
// +k8s:deepcopy-gen=package
// +groupName=argoproj.io
package v1alpha1
