// Package notify sends the notifications a team configures for Argo
// Rollouts: services, triggers and templates in the
// argo-rollouts-notification-configmap ConfigMap, credentials in the
// argo-rollouts-notification-secret Secret, and subscriptions in
// notifications.argoproj.io/subscribe.<trigger>.<service> annotations or the
// ConfigMap's default subscriptions. The format, template language and
// services are those of the notifications engine Argo CD and Argo Rollouts
// share (github.com/argoproj/notifications-engine).
//
// As upstream, messages leave by two paths:
//
//   - Events. Every event the controller records with a reason runs the
//     trigger "on-" plus the kebab-case reason (RolloutStepCompleted runs
//     on-rollout-step-completed) for the destinations subscribed to it. A
//     condition without "when" always sends; one with "when" sends if it
//     holds. The Recorder wrapper hands events to a bounded queue that
//     background workers drain, so a slow or failing receiver never delays a
//     reconcile.
//   - Conditions. A trigger whose "when" holds sends once, and again only
//     after it stopped holding; what was sent is kept in the Rollout's
//     notified.notifications.argoproj.io annotation, so a restart or a resync
//     sends nothing twice (see Conditions).
//
// The values of the notification Secrets never appear in what this package
// logs: they are replaced by "******".
package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/argoproj/notifications-engine/pkg/api"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

// The names of the notification configuration, Argo Rollouts' own.
const (
	ConfigMapName = "argo-rollouts-notification-configmap"
	SecretName    = "argo-rollouts-notification-secret"
)

// Metrics records what notifications cost and how they went, as Argo
// Rollouts' notification_send_success, notification_send_error and
// notification_send (controllermetrics.Metrics implements it).
type Metrics interface {
	NotificationSent(namespace, name, eventType, reason string)
	NotificationFailed(namespace, name, eventType, reason string)
	ObserveNotificationSend(namespace, name string, took time.Duration)
}

// Options configure a Notifier.
type Options struct {
	// Kube reads the ConfigMaps and Secrets.
	Kube kubernetes.Interface
	// Namespace is the controller's namespace, whose configuration applies
	// to every object.
	Namespace string
	// SelfService also applies the configuration in the object's own
	// namespace (--self-service-notification-enabled).
	SelfService bool
	// Resync is the resync period of the configuration caches.
	Resync time.Duration
	// AnalysisRuns fills the analysisRuns template variable; nil leaves it
	// out.
	AnalysisRuns rolloutlisters.AnalysisRunLister
	Metrics      Metrics
	// Now is the clock of time.Now() in templates and of the send
	// durations; nil means time.Now.
	Now func() time.Time
	// Workers and QueueSize bound the event queue: Workers goroutines each
	// drain their own queue of QueueSize events (defaults 4 and 256). The
	// events of one object always go to the same worker, in order.
	Workers, QueueSize int
}

// Notifier sends the notifications of the configuration it caches.
type Notifier struct {
	opts      Options
	factory   api.Factory
	informers []kubeinformers.SharedInformerFactory
	synced    []cache.InformerSynced
	redactor  *Redactor
	queues    []chan job
}

// New builds a Notifier and its configuration caches; nothing runs until
// Run.
func New(o Options) (*Notifier, error) {
	if o.Kube == nil || o.Metrics == nil {
		return nil, fmt.Errorf("notify: Kube and Metrics are required")
	}
	if o.Namespace == "" {
		return nil, fmt.Errorf("notify: the controller's namespace is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	scope := o.Namespace
	if o.SelfService {
		scope = metav1.NamespaceAll
	}
	secrets := named(o.Kube, scope, SecretName, o.Resync)
	configMaps := named(o.Kube, scope, ConfigMapName, o.Resync)
	secretInformer := secrets.Core().V1().Secrets().Informer()
	cmInformer := configMaps.Core().V1().ConfigMaps().Informer()
	n := &Notifier{
		opts:      o,
		factory:   api.NewFactory(settings(o.AnalysisRuns, o.Now), o.Namespace, secretInformer, cmInformer),
		informers: []kubeinformers.SharedInformerFactory{secrets, configMaps},
		synced:    []cache.InformerSynced{secretInformer.HasSynced, cmInformer.HasSynced},
		redactor:  NewRedactor(secretInformer.GetIndexer()),
	}
	for range o.Workers {
		n.queues = append(n.queues, make(chan job, o.QueueSize))
	}
	return n, nil
}

// named is an informer factory that caches only the objects called name.
func named(kube kubernetes.Interface, namespace, name string, resync time.Duration) kubeinformers.SharedInformerFactory {
	return kubeinformers.NewSharedInformerFactoryWithOptions(kube, resync,
		kubeinformers.WithNamespace(namespace),
		kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = "metadata.name=" + name
		}))
}

// Redactor is what hides the notification Secrets' values.
func (n *Notifier) Redactor() *Redactor { return n.redactor }

// Run fills the configuration caches, then sends queued events until ctx is
// done. It returns an error only if the caches could not be filled.
func (n *Notifier) Run(ctx context.Context) error {
	for _, f := range n.informers {
		f.Start(ctx.Done())
	}
	defer func() {
		for _, f := range n.informers {
			f.Shutdown()
		}
	}()
	if !cache.WaitForCacheSync(ctx.Done(), n.synced...) {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("notify: the notification ConfigMap and Secret caches did not sync")
	}
	klog.FromContext(ctx).Info("Notifications configuration loaded", "namespace", n.opts.Namespace, "selfService", n.opts.SelfService)
	n.drain(ctx)
	return nil
}
