// Package v1alpha1 holds the Go types of the argoproj.io/v1alpha1 API that Serin
// serves: Rollout, AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun and
// Experiment. Their JSON is identical to what Argo Rollouts reads and writes, so
// existing manifests, the kubectl plugin and Argo CD work unchanged.
//
// +k8s:deepcopy-gen=package
// +groupName=argoproj.io
package v1alpha1
