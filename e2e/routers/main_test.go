// Package routers holds the end-to-end tests of the Traefik, Ambassador
// (Emissary-ingress), APISIX and App Mesh routers: the routers' CRDs are
// installed before the controller starts, as a cluster with those routers
// has them, and each router is driven through a canary, an abort and a
// controller restart; Argo Rollouts' examples for them run as written.
package routers

import (
	"context"
	"testing"

	"github.com/serin-dev/serin/e2e/cluster"
	"github.com/serin-dev/serin/e2e/framework"
)

func TestMain(m *testing.M) {
	framework.MainWith(m, func(e *framework.Env) error {
		ctx := context.Background()
		crds, err := cluster.RouterCRDs(ctx)
		if err != nil {
			return err
		}
		return cluster.ApplyObjects(ctx, e.Cluster.RESTConfig(), crds)
	})
}
