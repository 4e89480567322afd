#!/usr/bin/env bash
# Regenerates manifests/crds from the Go types with the controller-gen version
# pinned in go.mod, then applies the schema adjustments that keep the CRDs
# accepting every manifest Argo Rollouts accepts (see codegen/crdfix).
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${ROOT}"
OUT="${1:-${ROOT}/manifests/crds}"
mkdir -p "${OUT}" "${ROOT}/bin"

go build -o "${ROOT}/bin/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen
"${ROOT}/bin/controller-gen" crd:crdVersions=v1 paths=./pkg/apis/rollouts/... output:crd:stdout \
  > "${ROOT}/bin/crds.raw.yaml"
go run ./codegen/crdfix -in "${ROOT}/bin/crds.raw.yaml" -out "${OUT}"
