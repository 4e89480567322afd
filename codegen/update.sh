#!/usr/bin/env bash
# Regenerates the deepcopy functions, the typed clientset (with its fake), the
# listers and the informers of pkg/apis into pkg/client, using the
# k8s.io/code-generator version pinned in go.mod.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${ROOT}"
MODULE="$(go list -m)"

go mod download k8s.io/code-generator
CODEGEN_PKG="$(go list -m -f '{{.Dir}}' k8s.io/code-generator)"
# kube_codegen.sh installs the generators it needs into GOBIN.
export GOBIN="${ROOT}/bin/codegen"
mkdir -p "${GOBIN}"
export PATH="${GOBIN}:${PATH}"
# shellcheck source=/dev/null
source "${CODEGEN_PKG}/kube_codegen.sh"

kube::codegen::gen_helpers \
  --boilerplate "${ROOT}/codegen/boilerplate.go.txt" \
  "${ROOT}/pkg/apis"

kube::codegen::gen_client \
  --with-watch \
  --output-dir "${ROOT}/pkg/client" \
  --output-pkg "${MODULE}/pkg/client" \
  --boilerplate "${ROOT}/codegen/boilerplate.go.txt" \
  "${ROOT}/pkg/apis"
