package main

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	kubescheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	rolloutscheme "github.com/serin-dev/serin/pkg/client/clientset/versioned/scheme"
	"github.com/serin-dev/serin/pkg/client/informers/externalversions"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/controllermetrics"
	"github.com/serin-dev/serin/pkg/plugin/host"
	"github.com/serin-dev/serin/pkg/tolerant"
)

// eventComponent is the source component of our Events; Argo Rollouts'
// name, which tools filter on.
const eventComponent = "rollouts-controller"

// metricCleanupDelay is how long a deleted object's reconcile and event
// series stay, so that a scrape sees their last values (upstream: 65s).
const metricCleanupDelay = 65 * time.Second

// controllerDef is one reconciler this binary can run. Each is wired in its
// own file, which adds it with register from an init function.
type controllerDef struct {
	// name labels the work queue (and its workqueue_* metrics) and the logs.
	name string
	// analysis marks the controllers kept by --controllers=analysis.
	analysis bool
	// build returns the controller, or nil when the configuration needs
	// none.
	build func(d *deps) (*controller.Controller, error)
}

var controllerDefs []controllerDef

func register(def controllerDef) { controllerDefs = append(controllerDefs, def) }

// deps is what a controllerDef builds its controller from.
type deps struct {
	opts      *options
	kube      kubernetes.Interface
	rollouts  versioned.Interface
	informers *informers
	recorder  record.EventRecorder
	metrics   *controllermetrics.Metrics
	// ownNamespace is the controller's namespace, where provider
	// credentials (datadog, newrelic, ...) live by default.
	ownNamespace string
	// dynamic reads the workloads spec.workloadRef names; watchNamespace
	// scopes that cache and ctx stops it.
	dynamic        dynamic.Interface
	watchNamespace string
	ctx            context.Context
	// shared is the cache of referenced objects the controllers share
	// (see objects).
	shared *sharedObjects
	// plugins runs the plugins of argo-rollouts-config.
	plugins *host.Host
}

// forgetOnDelete returns a handler that drops a deleted object's metric
// series once metricCleanupDelay has passed.
func (d *deps) forgetOnDelete(forget func(namespace, name string)) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		key, err := cache.DeletionHandlingObjectToName(obj)
		if err != nil {
			return
		}
		time.AfterFunc(metricCleanupDelay, func() { forget(key.Namespace, key.Name) })
	}}
}

// informers are the shared caches, started only while leading.
type informers struct {
	// argo holds Rollouts, AnalysisRuns, Experiments and templates of this
	// controller instance (see instanceIDSelector), decoded tolerantly: a
	// malformed field is left out (and reported) instead of stopping the
	// whole kind's cache.
	argo *tolerant.Factory
	// replicaSets holds only ReplicaSets carrying the pod-template-hash
	// label, i.e. made by a Rollout or Experiment, not by Deployments.
	replicaSets kubeinformers.SharedInformerFactory
	// kube holds the other core objects (Services).
	kube kubeinformers.SharedInformerFactory
	// jobs holds only Jobs labelled with an AnalysisRun's uid, i.e. made by
	// a job metric.
	jobs kubeinformers.SharedInformerFactory
}

func newInformers(kube kubernetes.Interface, argo versioned.Interface, dyn dynamic.Interface, namespace, instanceSelector string, resync time.Duration, report tolerant.Reporter) *informers {
	tweak := func(o *metav1.ListOptions) { o.LabelSelector = instanceSelector }
	typed := externalversions.NewSharedInformerFactoryWithOptions(argo, resync,
		externalversions.WithNamespace(namespace),
		externalversions.WithTweakListOptions(tweak),
		externalversions.WithTransform(controller.StripManagedFields))
	return &informers{
		argo: tolerant.NewFactory(typed, tolerant.Source{Client: dyn, Namespace: namespace, Tweak: tweak, Report: report}),
		replicaSets: kubeinformers.NewSharedInformerFactoryWithOptions(kube, resync,
			kubeinformers.WithNamespace(namespace),
			kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = v1alpha1.LabelPodTemplateHash }),
			kubeinformers.WithTransform(leanPods)),
		kube: kubeinformers.NewSharedInformerFactoryWithOptions(kube, resync,
			kubeinformers.WithNamespace(namespace),
			kubeinformers.WithTransform(controller.StripManagedFields)),
		jobs: kubeinformers.NewSharedInformerFactoryWithOptions(kube, resync,
			kubeinformers.WithNamespace(namespace),
			kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = v1alpha1.LabelAnalysisRunUID }),
			kubeinformers.WithTransform(controller.StripManagedFields)),
	}
}

// leanPods drops managedFields from every object and, from pods, everything
// the controller never reads (spec, container statuses), so caching a
// Rollout's pods costs little memory.
func leanPods(obj any) (any, error) {
	obj, err := controller.StripManagedFields(obj)
	if pod, ok := obj.(*corev1.Pod); ok {
		pod.Spec = corev1.PodSpec{}
		pod.Status = corev1.PodStatus{Phase: pod.Status.Phase, Conditions: pod.Status.Conditions}
	}
	return obj, err
}

func (i *informers) start(ctx context.Context) {
	i.argo.Start(ctx.Done())
	i.replicaSets.Start(ctx.Done())
	i.kube.Start(ctx.Done())
	i.jobs.Start(ctx.Done())
}

// waitForSync waits until every requested informer has listed once.
func (i *informers) waitForSync(ctx context.Context) error {
	synced := map[string]bool{}
	for t, ok := range i.argo.WaitForCacheSync(ctx.Done()) {
		synced[t.String()] = ok
	}
	for t, ok := range i.replicaSets.WaitForCacheSync(ctx.Done()) {
		synced[t.String()] = ok
	}
	for t, ok := range i.kube.WaitForCacheSync(ctx.Done()) {
		synced[t.String()] = ok
	}
	for t, ok := range i.jobs.WaitForCacheSync(ctx.Done()) {
		synced["jobs/"+t.String()] = ok
	}
	for t, ok := range synced {
		if !ok {
			return fmt.Errorf("cache of %s did not sync", t)
		}
	}
	return nil
}

func (i *informers) shutdown() {
	i.argo.Shutdown()
	i.replicaSets.Shutdown()
	i.kube.Shutdown()
	i.jobs.Shutdown()
}

// app is the controller process minus its HTTP endpoints and leader
// election: caches, controllers and the event pipeline.
type app struct {
	informers   *informers
	controllers []*controller.Controller
	broadcaster record.EventBroadcaster
	// plugins are killed before an exit that skips deferred clean-up.
	plugins *host.Host
	// notifications send what the notification ConfigMap asks for.
	notifications *notifications
}

// clients are the API clients of the controller.
type clients struct {
	kube kubernetes.Interface
	// events, when set, writes Events: a client of its own, so that the
	// events of a release wave never hold up the writes of a reconcile
	// behind a client-side rate limit. Default: kube.
	events  kubernetes.Interface
	argo    versioned.Interface
	dynamic dynamic.Interface
}

// newApp builds caches, metrics collectors and controllers; nothing runs
// until app.run.
func newApp(ctx context.Context, o *options, c clients, watchNamespace string, m *controllermetrics.Metrics, plugins *host.Host) (*app, error) {
	kube, argo, dyn := c.kube, c.argo, c.dynamic
	if plugins == nil {
		plugins = host.New(host.Options{})
	}
	selector, err := instanceIDSelector(o.instanceID)
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := kubescheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := rolloutscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartStructuredLogging(0)
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cmp.Or(c.events, kube).CoreV1().Events("")})
	counted := m.EventRecorder(broadcaster.NewRecorder(scheme, corev1.EventSource{Component: eventComponent}))
	report := tolerant.EventReporter(counted, klog.FromContext(ctx))
	inf := newInformers(kube, argo, dyn, watchNamespace, selector, time.Duration(o.resyncSeconds)*time.Second, report)
	ownNamespace := controllerNamespace(os.LookupEnv, os.ReadFile)
	notes, err := newNotifications(ctx, o, kube, dyn, inf, ownNamespace, m)
	if err != nil {
		return nil, err
	}
	recorder := notes.recorder(counted)

	registerCollectors(m, inf, o, watchNamespace)

	a := &app{informers: inf, broadcaster: broadcaster, plugins: plugins, notifications: notes}
	d := &deps{opts: o, kube: kube, rollouts: argo, dynamic: dyn, watchNamespace: watchNamespace, ctx: ctx,
		informers: inf, recorder: recorder, metrics: m,
		ownNamespace: ownNamespace, plugins: plugins}
	for _, def := range controllerDefs {
		if !def.analysis && !o.runsRollouts() {
			continue // --controllers=analysis
		}
		c, err := def.build(d)
		if err != nil {
			return nil, fmt.Errorf("set up the %s controller: %w", def.name, err)
		}
		if c != nil { // a controller with nothing to do in this set-up
			a.controllers = append(a.controllers, c)
		}
	}
	if len(a.controllers) == 0 {
		klog.FromContext(ctx).Info("No controller to run with these flags; serving metrics only", "controllers", o.controllers)
	}
	return a, nil
}

// registerCollectors registers the metrics read from the caches at scrape
// time.
func registerCollectors(m *controllermetrics.Metrics, inf *informers, o *options, watchNamespace string) {
	v1 := inf.argo.Argoproj().V1alpha1()
	m.MustRegister(controllermetrics.NewAnalysisRunCollector(v1.AnalysisRuns().Lister()))
	// ClusterAnalysisTemplates are cluster-scoped: a namespaced install has
	// no RBAC for them, so their informer must not even be created (it
	// would never sync).
	var clusterTemplates rolloutlisters.ClusterAnalysisTemplateLister
	if watchNamespace == metav1.NamespaceAll {
		clusterTemplates = v1.ClusterAnalysisTemplates().Lister()
	}
	m.MustRegister(controllermetrics.NewAnalysisTemplateCollector(v1.AnalysisTemplates().Lister(), clusterTemplates))
	if o.runsRollouts() {
		m.MustRegister(controllermetrics.NewRolloutCollector(v1.Rollouts().Lister()))
		m.MustRegister(controllermetrics.NewRolloutProgressCollector(v1.Rollouts().Lister(), time.Now))
		m.MustRegister(controllermetrics.NewExperimentCollector(v1.Experiments().Lister()))
	}
}

// run fills the caches, runs every controller until ctx is done and waits
// for them to stop.
func (a *app) run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	defer a.broadcaster.Shutdown()
	defer a.informers.shutdown()

	a.informers.start(ctx)
	logger.Info("Waiting for caches to sync")
	if err := a.informers.waitForSync(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	logger.Info("Caches synced; starting controllers", "controllers", len(a.controllers))

	var wg sync.WaitGroup
	wg.Go(func() { a.notifications.run(ctx) })
	for _, c := range a.controllers {
		wg.Go(func() { c.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// run is the whole controller process once flags are parsed and logging is
// set up. It returns when ctx is done (SIGTERM) and everything has stopped.
func run(ctx context.Context, o *options) error {
	logger := klog.FromContext(ctx)
	cc := o.clientConfig()
	cfg, err := cc.ClientConfig()
	if err != nil {
		return fmt.Errorf("kubernetes client configuration: %w", err)
	}
	cfg.UserAgent = "serin-controller/" + versionString()
	watchNS, err := o.watchNamespace(cc)
	if err != nil {
		return err
	}
	ownNS := controllerNamespace(os.LookupEnv, os.ReadFile)
	logStartup(logger, o, watchNS, ownNS, cfg.Host)
	limit := decideClientLimit(o, o.rateLimitGiven, func() (bool, error) { return priorityAndFairness(ctx, cfg) })
	limitClients(cfg, limit)
	logger.Info("Client-side rate limit", "unlimited", limit.unlimited(), "qps", limit.qps, "burst", limit.burst, "reason", limit.reason)

	// Every client's requests are counted (controller_clientset_k8s_request_total).
	m := controllermetrics.New(versionString())
	cfg.Wrap(m.WrapTransport)
	elector, err := electAndFence(o, cfg, ownNS)
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(builtinKinds(cfg))
	if err != nil {
		return err
	}
	argo, err := versioned.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	plugins := startPlugins(ctx, o, kube, ownNS)
	defer plugins.Shutdown()
	events, err := kubernetes.NewForConfig(builtinKinds(cfg)) // its own rate limiter
	if err != nil {
		return err
	}
	a, err := newApp(ctx, o, clients{kube: kube, events: events, argo: argo, dynamic: dyn}, watchNS, m, plugins)
	if err != nil {
		return err
	}

	servers, err := startServers(ctx, o, m)
	defer func() {
		for _, s := range servers {
			s.shutdown()
		}
	}()
	if err != nil {
		return err
	}

	return a.runLeading(ctx, elector)
}

// startServers opens /healthz, /metrics and, if asked, pprof. They serve on
// every interface, as probes and Prometheus reach the pod by its IP.
func startServers(ctx context.Context, o *options, m *controllermetrics.Metrics) ([]*server, error) {
	var servers []*server
	healthz, err := listen(ctx, "healthz", net.JoinHostPort(o.healthzHost, strconv.Itoa(o.healthzPort)), healthzHandler())
	if err != nil {
		return servers, fmt.Errorf("healthz endpoint: %w", err)
	}
	servers = append(servers, healthz)
	metricsSrv, err := listen(ctx, "metrics", net.JoinHostPort(o.metricsHost, strconv.Itoa(o.metricsPort)), metricsHandler(m.Handler()))
	if err != nil {
		return servers, fmt.Errorf("metrics endpoint: %w", err)
	}
	servers = append(servers, metricsSrv)
	if o.pprofAddress != "" {
		p, err := listen(ctx, "pprof", o.pprofAddress, pprofHandler())
		if err != nil {
			return servers, fmt.Errorf("pprof endpoint: %w", err)
		}
		servers = append(servers, p)
	}
	return servers, nil
}

// logStartup prints the effective configuration once. Credentials never
// appear: only the API server's address is shown.
func logStartup(logger klog.Logger, o *options, watchNS, ownNS, host string) {
	watched := watchNS
	if watched == metav1.NamespaceAll {
		watched = "(all)"
	}
	logger.Info("Serin controller starting",
		"version", versionString(),
		"apiServer", host,
		"watchNamespace", watched,
		"controllerNamespace", ownNS,
		"instanceID", o.instanceID,
		"leaderElect", o.leaderElect,
		"leaseName", leaseName(o.instanceID),
		"leaseDuration", o.leaseDuration,
		"renewDeadline", o.renewDeadline,
		"retryPeriod", o.retryPeriod,
		"rolloutThreads", o.rolloutThreads,
		"analysisThreads", o.analysisThreads,
		"experimentThreads", o.experimentThreads,
		"controllers", o.controllers,
		"resync", time.Duration(o.resyncSeconds)*time.Second,
		"qps", o.qps,
		"burst", o.burst,
		"metricsPort", o.metricsPort,
		"healthzPort", o.healthzPort,
		"pprofAddress", o.pprofAddress,
		"logLevel", o.logLevel,
		"logFormat", o.logFormat,
		"klogLevel", o.klogLevel,
	)
}
