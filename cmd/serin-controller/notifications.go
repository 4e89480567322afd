package main

import (
	"context"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controllermetrics"
	"github.com/serin-dev/serin/pkg/notify"
)

// notifications sends what argo-rollouts-notification-configmap asks for:
// on recorded events, and on Rollout conditions.
type notifications struct {
	notifier *notify.Notifier
	// conditions runs the condition path; nil with --controllers=analysis.
	conditions func(ctx context.Context, workers int)
	workers    int
}

// newNotifications builds the notifier of the controller's namespace (and,
// with --self-service-notification-enabled, of every namespace) and routes
// the engine's own logs to ours, redacted.
func newNotifications(ctx context.Context, o *options, kube kubernetes.Interface, dyn dynamic.Interface, inf *informers, ownNS string, m *controllermetrics.Metrics) (*notifications, error) {
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
	out := &notifications{notifier: n, workers: o.rolloutThreads}
	if o.runsRollouts() {
		out.conditions = n.Conditions(dyn.Resource(v1alpha1.SchemeGroupVersion.WithResource("rollouts")), v1.Rollouts().Informer())
	}
	return out, nil
}

// run sends notifications until ctx is done; the caches it reads must be
// running.
func (n *notifications) run(ctx context.Context) {
	if n.conditions != nil {
		go n.conditions(ctx, n.workers)
	}
	if err := n.notifier.Run(ctx); err != nil {
		klog.FromContext(ctx).Error(err, "Notifications stopped")
	}
}
