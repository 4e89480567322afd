package main

import (
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/rollout"
)

func init() {
	register(controllerDef{name: "Services", build: newServiceCleanupController})
}

// newServiceCleanupController wires the reconciler that gives a Service back
// to its app once no Rollout uses it: a Service is looked at when it
// changes, and the Services a Rollout names when that Rollout changes or is
// deleted.
func newServiceCleanupController(d *deps) (*controller.Controller, error) {
	rollouts := d.informers.argo.Argoproj().V1alpha1().Rollouts().Informer()
	services := d.informers.kube.Core().V1().Services()
	if err := ensureIndexes(rollouts, cache.Indexers{rollout.ServicesIndex: rollout.ServicesIndexFunc}); err != nil {
		return nil, err
	}
	r := rollout.NewServiceCleanup(rollout.ServiceCleanupOptions{
		KubeClient:    d.kube,
		RolloutClient: d.rollouts,
		ServiceLister: services.Lister(),
		Rollouts:      rollouts.GetIndexer(),
		Recorder:      d.recorder,
	})
	c := controller.New("Services", r, controller.Options{
		Workers:         d.opts.serviceThreads,
		MetricsProvider: d.metrics.WorkqueueMetricsProvider(),
	})
	if _, err := services.Informer().AddEventHandler(controller.HandleAll(c)); err != nil {
		return nil, err
	}
	if _, err := rollouts.AddEventHandler(controller.HandleMapped(c, rollout.RolloutServices)); err != nil {
		return nil, err
	}
	return c, nil
}

// ensureIndexes adds the indexes an informer lacks, so that controllers that
// share an informer may each ask for the indexes they use, in any order.
func ensureIndexes(inf cache.SharedIndexInformer, want cache.Indexers) error {
	have := inf.GetIndexer().GetIndexers()
	missing := cache.Indexers{}
	for name, fn := range want {
		if _, ok := have[name]; !ok {
			missing[name] = fn
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return inf.AddIndexers(missing)
}
