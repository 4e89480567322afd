# Serin's build, test and demo entry points. Every target works on a fresh
# machine: what is missing (cluster binaries, Prometheus) is built or installed
# on first use.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -o errexit -o nounset -o pipefail -c
.DEFAULT_GOAL := build

ROOT := $(abspath .)
BIN := $(ROOT)/bin
KUBECONFIG_PATH := $(BIN)/cluster/kubeconfig
STATICCHECK_VERSION := v0.8.2
GO_PACKAGES := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
IMAGE_REPOSITORY ?= ghcr.io/serin-dev/serin-controller

.PHONY: build
build: ## Build the controller into bin/serin-controller and the kubectl plugin into bin/kubectl-serin.
	go build -o $(BIN)/serin-controller ./cmd/serin-controller
	go build -o $(BIN)/kubectl-serin ./cmd/kubectl-serin

.PHONY: image
image: ## Build the controller's OCI image into bin/serin-controller-image (no Docker) and name it by tag and digest in manifests/base.
	CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -buildid= -X main.version=$(VERSION)" -o $(BIN)/image/serin-controller ./cmd/serin-controller
	cd e2e && go run ./cmd/image --binary $(BIN)/image/serin-controller --version $(VERSION) \
	  --repository $(IMAGE_REPOSITORY) --out $(BIN)/serin-controller-image --kustomization $(ROOT)/manifests/base/kustomization.yaml

.PHONY: test
test: verify unit e2e ## Everything a user's CI runs: generated-code checks, unit tests, then end-to-end tests on a real local cluster.

.PHONY: unit
unit: ## Unit tests of the main module.
	go test -count=1 $(GO_PACKAGES)

.PHONY: fuzz
# Every Go fuzz target of the main module, one worker each, one after the
# other. A failing input lands in the package's testdata/fuzz/<Target>/:
# commit it with the fix, and `go test` replays it from then on.
FUZZTIME ?= 1m
fuzz: ## Run every fuzz target for FUZZTIME (default 1m) each; make unit replays their seed corpora.
	@set -e; for pkg in $$(go list ./...); do \
	  for target in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target ($(FUZZTIME))"; \
	    go test $$pkg -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -parallel 1; \
	  done; \
	done

.PHONY: e2e
e2e: e2e-serin-crds e2e-upstream-crds ## End-to-end tests on a real local control plane and Prometheus, on Serin's CRDs and then on Argo Rollouts' CRDs.

.PHONY: e2e-serin-crds
e2e-serin-crds: build cluster-binaries ## Every end-to-end suite, on Serin's own CRDs (manifests/crds).
	cd e2e && SERIN_E2E=1 go test -count=1 -timeout 40m ./...

# Every suite that installs the argoproj.io CRDs, run again on the CRDs a
# user's Argo Rollouts install has (../shared/conformance/upstream-crds;
# skipped with a message where that folder is absent). The cluster package
# and the demo bring their own clusters with Serin's CRDs. The two runs are
# sequential: each package starts its own control plane, and four at once
# would overload two cores.
UPSTREAM_CRD_SUITES := ./foundation ./rollout ./analysis ./restart ./gates ./fault ./experiment ./plugins ./routers ./alb ./notify ./cli

.PHONY: e2e-upstream-crds
e2e-upstream-crds: build cluster-binaries ## Every end-to-end suite that installs CRDs, on Argo Rollouts' own CRDs.
	cd e2e && SERIN_E2E=1 SERIN_E2E_CRDS=upstream go test -count=1 -timeout 40m $(UPSTREAM_CRD_SUITES)

.PHONY: bench
# The benchmark suite on its own local cluster; not part of `make test`.
# BENCH_FLAGS picks scenarios and sizes, e.g.
#   make bench BENCH_FLAGS='--scenarios wave,coldstart --n 100'
#   make bench BENCH_FLAGS='--scenarios idle --idle 2m'
BENCH_FLAGS ?=
bench: build cluster-binaries ## Run the benchmark suite (e2e/bench): table on stdout, JSON and profiles in bin/bench/.
	cd e2e && go run ./cmd/bench $(BENCH_FLAGS)

.PHONY: bench-readme
# BENCH_README_FLAGS='--in a.json,b.json' puts the figures of several runs in one table.
BENCH_README_FLAGS ?=
bench-readme: ## Write the table of the last `make bench` (bin/bench/bench.json, or BENCH_README_FLAGS' --in) into README.md.
	cd e2e && go run ./cmd/bench readme $(BENCH_README_FLAGS)

.PHONY: cluster-binaries
cluster-binaries: ## Build etcd, the Kubernetes control plane, kubectl and kwok from Go modules; install Prometheus.
	cd e2e && go run ./cmd/cluster build

.PHONY: cluster-up
cluster-up: cluster-binaries ## Start a local cluster in the background and print how to reach it.
	@mkdir -p $(BIN)/cluster
	@cd e2e && go build -o $(BIN)/e2e-cluster ./cmd/cluster
	@nohup $(BIN)/e2e-cluster up >$(BIN)/cluster-up.log 2>&1 &
	@$(BIN)/e2e-cluster wait || { cat $(BIN)/cluster-up.log; exit 1; }
	@echo "cluster is up; to use it:"
	@echo "  export KUBECONFIG=$(KUBECONFIG_PATH)"
	@echo "stop it with: make cluster-down"

.PHONY: cluster-down
cluster-down: ## Stop the local cluster started by cluster-up.
	@cd e2e && go run ./cmd/cluster down

.PHONY: demo
demo: build cluster-binaries ## Run Serin's main job on an embedded local cluster, narrated.
	cd e2e && go run ./cmd/demo

.PHONY: codegen
codegen: ## Regenerate deepcopy, clientset, listers and informers into pkg/client.
	bash codegen/update.sh

.PHONY: crds
crds: ## Regenerate manifests/crds from the Go types.
	bash codegen/crds.sh

.PHONY: verify
verify: ## Fail on generated-code or CRD drift, unformatted code, or go vet findings.
	bash codegen/verify.sh
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet $(GO_PACKAGES)
	cd e2e && go vet ./...

.PHONY: lint
lint: verify ## verify plus staticcheck (generated code excluded; settings in staticcheck.conf).
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $$(go list ./... | grep -v /pkg/client/)

.PHONY: clean
clean: ## Remove built binaries (keeps the Go build cache).
	rm -rf $(BIN)

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "%-18s %s\n", $$1, $$2}'
