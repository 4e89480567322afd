package main

import (
	"context"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controllermetrics"
	"github.com/serin-dev/serin/pkg/notify"
)

// notifications sends what argo-rollouts-notification-configmap asks for:
// on recorded events, and on Rollout conditions.
type notifications struct {
	// notifier is nil with --controllers=analysis, which, as upstream's
	// analysis-only controller, sends no notifications.
	notifier   *notify.Notifier
	conditions func(ctx context.Context, workers int)
	workers    int
}

// newNotifications builds the notifier of the controller's namespace (and,
// with --self-service-notification-enabled, of every namespace) and routes
// the engine's own logs to ours, redacted.
func newNotifications(ctx context.Context, o *options, kube kubernetes.Interface, dyn dynamic.Interface, inf *informers, ownNS string, m *controllermetrics.Metrics) (*notifications, error) {
	if !o.runsRollouts() {
		return &notifications{}, nil
	}
	v1 := inf.argo.Argoproj().V1alpha1()
	n, err := notify.New(notify.Options{
		Kube:         kube,
		Namespace:    ownNS,
		SelfService:  o.selfServiceNotifications,
		Resync:       time.Duration(o.resyncSeconds) * time.Second,
		AnalysisRuns: v1.AnalysisRuns().Lister(),
		Metrics:      m,
	})
	if err != nil {
		return nil, err
	}
	notify.RouteEngineLogs(klog.FromContext(ctx), n.Redactor())
	rollouts := dyn.Resource(v1alpha1.SchemeGroupVersion.WithResource("rollouts"))
	return &notifications{notifier: n, workers: o.rolloutThreads,
		conditions: n.Conditions(rollouts, v1.Rollouts().Informer())}, nil
}

// recorder wraps rec so that its events are notified.
func (n *notifications) recorder(rec record.EventRecorderLogger) record.EventRecorderLogger {
	if n.notifier == nil {
		return rec
	}
	return n.notifier.Recorder(rec)
}

// run sends notifications until ctx is done; the caches it reads must be
// running.
func (n *notifications) run(ctx context.Context) {
	if n.notifier == nil {
		return
	}
	go n.conditions(ctx, n.workers)
	if err := n.notifier.Run(ctx); err != nil {
		klog.FromContext(ctx).Error(err, "Notifications stopped")
	}
}
