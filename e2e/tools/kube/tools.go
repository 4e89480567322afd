//go:build tools

// Package tools pins the Kubernetes control-plane binaries that the e2e
// cluster runs. The e2e/cluster package builds them with
// `go build -o <repo>/bin/<name> <import path>` inside this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
