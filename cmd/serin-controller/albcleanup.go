package main

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/rollout"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

func init() {
	register(controllerDef{name: "ALBCleanup", build: newALBCleanupController})
}

// newALBCleanupController wires the reconciler that gives an Ingress's ALB
// actions back once the Rollout that managed them no longer uses it: an
// Ingress with a managed-alb-annotations record is looked at when it
// changes, and the Ingresses a Rollout names when that Rollout changes or
// is deleted. A sweep queued at start fills the Ingress cache, so records
// left while no controller ran are seen too.
func newALBCleanupController(d *deps) (*controller.Controller, error) {
	objects := d.objects()
	if objects == nil {
		return nil, nil
	}
	routerConfig := d.opts.routerConfig()
	router := alb.New(routerConfig.IngressAPIVersion).(*alb.Router)
	ingresses := router.Resources()[0]
	rollouts := d.informers.argo.Argoproj().V1alpha1().Rollouts().Informer()
	if err := ensureIndexes(rollouts, cache.Indexers{rollout.RoutersIndex: rollout.RoutersIndexFunc(routerConfig.ForRollout)}); err != nil {
		return nil, err
	}
	r := rollout.NewALBCleanup(rollout.ALBCleanupOptions{
		Dynamic: d.dynamic, RolloutClient: d.rollouts, Objects: objects,
		Rollouts: rollouts.GetIndexer(), Recorder: d.recorder, Router: router,
	})
	c := controller.New("ALBCleanup", r, controller.Options{
		Workers:         1,
		MetricsProvider: d.metrics.WorkqueueMetricsProvider(),
	})
	d.onObjectChange(func(gvr schema.GroupVersionResource) cache.ResourceEventHandler {
		if gvr != ingresses {
			return nil
		}
		return controller.HandleMapped(c, rollout.ManagedALBIngress)
	})
	if _, err := rollouts.AddEventHandler(controller.HandleMapped(c, rollout.RolloutALBIngresses)); err != nil {
		return nil, err
	}
	c.EnqueueKey(rollout.SweepKey)
	return c, nil
}
