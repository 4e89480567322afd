//go:build tools

// Package codegen pins the code generators in go.mod so that codegen/update.sh
// runs the exact versions the committed code was generated with.
package codegen

import (
	_ "k8s.io/code-generator"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
