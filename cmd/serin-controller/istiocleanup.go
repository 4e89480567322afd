package main

import (
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/rollout"
	"github.com/serin-dev/serin/pkg/trafficrouting/istio"
)

func init() {
	register(controllerDef{name: "IstioCleanup", build: newIstioCleanupController})
}

// newIstioCleanupController wires the reconciler that takes a Rollout's
// marks out of VirtualServices and DestinationRules it no longer uses: an
// Istio object is looked at when it changes, and the Istio objects a
// Rollout names when that Rollout changes or is deleted. A sweep queued at
// start fills the caches, so marks left while no controller ran go too.
func newIstioCleanupController(d *deps) (*controller.Controller, error) {
	objects := d.objects()
	if objects == nil {
		return nil, nil
	}
	routerConfig := d.opts.routerConfig()
	router := istio.New(routerConfig.IstioAPIVersion).(*istio.Router)
	vs, dr := router.VirtualServices(), router.DestinationRules()
	rollouts := d.informers.argo.Argoproj().V1alpha1().Rollouts().Informer()
	if err := ensureIndexes(rollouts, cache.Indexers{rollout.RoutersIndex: rollout.RoutersIndexFunc(routerConfig.ForRollout)}); err != nil {
		return nil, err
	}
	r := rollout.NewIstioCleanup(rollout.IstioCleanupOptions{
		Dynamic: d.dynamic, RolloutClient: d.rollouts, Objects: objects,
		Rollouts: rollouts.GetIndexer(), Recorder: d.recorder,
		VirtualServices: vs, DestinationRules: dr,
		Served: served(d.kube.Discovery()),
	})
	c := controller.New("IstioCleanup", r, controller.Options{
		Workers:         1,
		MetricsProvider: d.metrics.WorkqueueMetricsProvider(),
	})
	d.onObjectChange(func(gvr schema.GroupVersionResource) cache.ResourceEventHandler {
		if gvr != vs && gvr != dr {
			return nil
		}
		return controller.HandleMapped(c, rollout.IstioObjectKey(gvr))
	})
	if _, err := rollouts.AddEventHandler(controller.HandleMapped(c, rollout.RolloutIstioObjects(routerConfig.ForRollout, vs, dr))); err != nil {
		return nil, err
	}
	c.EnqueueKey(rollout.SweepKey)
	return c, nil
}

// served asks the API server's discovery whether it serves a resource.
func served(client discovery.DiscoveryInterface) func(schema.GroupVersionResource) (bool, error) {
	return func(gvr schema.GroupVersionResource) (bool, error) {
		list, err := client.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == gvr.Resource }), nil
	}
}
