//go:build tools

// Package tools pins kwok, the fake kubelet that the e2e cluster runs.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
