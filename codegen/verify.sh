#!/usr/bin/env bash
# Fails when the committed generated code or CRDs differ from what the
# generators produce from the current types.
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${ROOT}"
TMP="$(mktemp -d)"
trap 'rm -rf "${TMP}"' EXIT

# Generate into a scratch copy of the tree so the working tree is untouched.
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "${TMP}/" 2>/dev/null || true
(cd "${TMP}" && bash codegen/update.sh >/dev/null && bash codegen/crds.sh >/dev/null)

status=0
for dir in pkg manifests/crds; do
  if ! diff -Naupr "${ROOT}/${dir}" "${TMP}/${dir}" >"${TMP}/drift.diff"; then
    echo "generated files in ${dir} are out of date; run 'make codegen crds':" >&2
    head -50 "${TMP}/drift.diff" >&2
    status=1
  fi
done
exit "${status}"
