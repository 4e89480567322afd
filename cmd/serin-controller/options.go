package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/host"
	"github.com/serin-dev/serin/pkg/plugin/install"
	"github.com/serin-dev/serin/pkg/trafficrouting/routers"
)

// options are the controller's command-line settings. Flag names and
// defaults are Argo Rollouts', so its Deployment manifests run us unchanged.
type options struct {
	namespaced    bool
	instanceID    string
	resyncSeconds int64

	leaderElect   bool
	leaseDuration time.Duration
	renewDeadline time.Duration
	retryPeriod   time.Duration

	rolloutThreads  int
	serviceThreads  int
	analysisThreads int
	// pluginDir is where plugin binaries are installed.
	pluginDir string
	// pluginCallTimeout bounds every call to a plugin.
	pluginCallTimeout time.Duration
	experimentThreads int
	controllers       []string
	// selfServiceNotifications also reads the notification ConfigMap and
	// Secret of each Rollout's namespace.
	selfServiceNotifications bool

	metricsPort int
	healthzPort int
	// metricsHost and healthzHost are the addresses the two servers bind
	// (empty: every interface, as Argo Rollouts).
	metricsHost  string
	healthzHost  string
	pprofAddress string

	logLevel  string
	logFormat string
	klogLevel int

	qps   float32
	burst int
	// rateLimitGiven is true when --qps or --burst was on the command
	// line; see decideClientLimit.
	rateLimitGiven bool

	// Traffic routers: API versions, and the ingress classes whose
	// Ingresses re-run the Rollouts that use them.
	istioAPIVersion        string
	ingressAPIVersion      string
	trafficSplitAPIVersion string
	nginxIngressClasses    []string
	// ALB: the ingress classes of the AWS Load Balancer Controller, and
	// target group verification through the ELBv2 API.
	albIngressClasses         []string
	awsVerifyTargetGroup      bool
	targetGroupBindingVersion string
	albTagKeyResourceID       string
	ambassadorAPIVersion      string
	traefikAPIGroup           string
	traefikAPIVersion         string
	appmeshCRDVersion         string

	printVersion bool

	// Where to find the cluster: --kubeconfig plus client-go's override
	// flags (--context, --server, --namespace, --token, ...).
	loadingRules *clientcmd.ClientConfigLoadingRules
	overrides    clientcmd.ConfigOverrides
}

// Defaults, from Argo Rollouts.
const (
	defaultResyncSeconds = 15 * 60
	defaultMetricsPort   = 8090
	defaultHealthzPort   = 8080
	defaultQPS           = 40
	defaultBurst         = 80
	defaultLeaseDuration = 15 * time.Second
	defaultRenewDeadline = 10 * time.Second
	defaultRetryPeriod   = 2 * time.Second
	// defaultRolloutThreads is Serin's own (Argo Rollouts: 10). A reconcile
	// mostly waits on the API server, and with 10 workers the Rollouts whose
	// pauses end, or whose analyses fail, in the same moment waited in line
	// for each other: 50 canaries reacting together took 0.5-0.65 s at the
	// 99th percentile with 10 workers and 0.12-0.13 s with 50 (make bench,
	// reaction scenario).
	defaultRolloutThreads    = 50
	defaultAnalysisThreads   = 30
	defaultExperimentThreads = 10
)

// analysisOnly is the one value --controllers accepts, as upstream.
const analysisOnly = "analysis"

// newFlagSet binds every flag to o, starting from the defaults.
func newFlagSet(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("serin-controller", pflag.ContinueOnError)
	fs.SortFlags = false

	o.loadingRules = clientcmd.NewDefaultClientConfigLoadingRules()
	fs.StringVar(&o.loadingRules.ExplicitPath, "kubeconfig", "", "Path to a kubeconfig file. Only needed out of cluster.")
	clientcmd.BindOverrideFlags(&o.overrides, fs, clientcmd.RecommendedConfigOverrideFlags(""))
	fs.StringVar(&o.overrides.ClusterInfo.Server, "master", "", "The address of the Kubernetes API server; same as --server.")

	fs.BoolVar(&o.namespaced, "namespaced", false, "Watch only the controller's own namespace (the kubeconfig's, or the pod's in cluster); no cluster-wide RBAC needed.")
	fs.StringVar(&o.instanceID, "instance-id", "", "Reconcile only objects labelled "+v1alpha1.LabelControllerInstanceID+" with this value; without it, only objects without that label.")
	fs.Int64Var(&o.resyncSeconds, "rollout-resync", defaultResyncSeconds, "Seconds between informer resyncs.")

	fs.BoolVar(&o.leaderElect, "leader-elect", true, "Run only while holding the leader election Lease, so several replicas can run with one active.")
	fs.DurationVar(&o.leaseDuration, "leader-election-lease-duration", defaultLeaseDuration, "How long a Lease that is not renewed keeps other replicas waiting.")
	fs.DurationVar(&o.renewDeadline, "leader-election-renew-deadline", defaultRenewDeadline, "How long the leader keeps retrying to renew before it gives up leadership (and exits). At most the lease duration.")
	fs.DurationVar(&o.retryPeriod, "leader-election-retry-period", defaultRetryPeriod, "Time between attempts to acquire or renew the Lease.")

	fs.IntVar(&o.rolloutThreads, "rollout-threads", defaultRolloutThreads, "Rollouts reconciled in parallel (Argo Rollouts' default is 10).")
	fs.IntVar(&o.serviceThreads, "service-threads", 10, "Services released in parallel once no Rollout uses them.")
	fs.IntVar(&o.analysisThreads, "analysis-threads", defaultAnalysisThreads, "AnalysisRuns reconciled in parallel.")
	fs.IntVar(&o.experimentThreads, "experiment-threads", defaultExperimentThreads, "Experiments reconciled in parallel.")
	fs.StringVar(&o.pluginDir, "plugin-dir", install.DefaultDir, "Directory plugin binaries are installed into, relative to the working directory unless absolute.")
	fs.DurationVar(&o.pluginCallTimeout, "plugin-call-timeout", host.DefaultCallTimeout, "How long a call to a plugin (or its start) may take before it fails.")
	fs.StringSliceVar(&o.controllers, "controllers", nil, "Run only these controllers; the only value is 'analysis'. Default: all.")

	fs.IntVar(&o.metricsPort, "metricsPort", defaultMetricsPort, "Port of the /metrics endpoint.")
	fs.IntVar(&o.metricsPort, "metricsport", defaultMetricsPort, "Port of the /metrics endpoint.")
	_ = fs.MarkDeprecated("metricsport", "use --metricsPort instead")
	fs.IntVar(&o.healthzPort, "healthzPort", defaultHealthzPort, "Port of the /healthz endpoint.")
	fs.StringVar(&o.metricsHost, "metrics-bind-address", "", "Address the /metrics server binds, such as 127.0.0.1 (every interface when empty, as Argo Rollouts).")
	fs.StringVar(&o.healthzHost, "healthz-bind-address", "", "Address the /healthz server binds (every interface when empty, as Argo Rollouts).")
	fs.StringVar(&o.pprofAddress, "enable-pprof-address", "", "Serve net/http/pprof on this address (e.g. 127.0.0.1:6060). Off when empty.")

	fs.StringVar(&o.logLevel, "loglevel", "info", "Log level: debug, info, warn or error.")
	fs.StringVar(&o.logFormat, "logformat", "text", "Log format: text or json.")
	fs.IntVar(&o.klogLevel, "kloglevel", 0, "klog verbosity, for the Kubernetes client libraries' own logs.")

	fs.Float32Var(&o.qps, "qps", defaultQPS, "Maximum queries per second to the Kubernetes API server. Unless --qps or --burst is given, there is no client-side limit when the API server runs API Priority and Fairness.")
	fs.IntVar(&o.burst, "burst", defaultBurst, "Maximum burst of queries to the Kubernetes API server.")

	fs.BoolVar(&o.printVersion, "version", false, "Print the version and exit.")

	fs.StringVar(&o.istioAPIVersion, "istio-api-version", "v1alpha3", "API version of Istio's VirtualServices and DestinationRules (v1alpha3, v1beta1 or v1).")
	fs.StringVar(&o.ingressAPIVersion, "ingress-api-version", "", "API version of the Ingresses the nginx router reads and writes, such as networking.k8s.io/v1 (the default when empty) or extensions/v1beta1.")
	fs.StringVar(&o.trafficSplitAPIVersion, "traffic-split-api-version", "v1alpha1", "API version of SMI TrafficSplits (v1alpha1, v1alpha2 or v1alpha3).")
	fs.StringVar(&o.ambassadorAPIVersion, "ambassador-api-version", "getambassador.io/v2", "API group and version of Ambassador/Emissary Mappings (x.getambassador.io/... uses ambassadormappings).")
	fs.StringVar(&o.traefikAPIGroup, "traefik-api-group", "traefik.io", "API group of Traefik's TraefikServices.")
	fs.StringVar(&o.traefikAPIVersion, "traefik-api-version", "traefik.io/v1alpha1", "API version of Traefik's TraefikServices (a group prefix is ignored).")
	fs.StringVar(&o.appmeshCRDVersion, "appmesh-crd-version", "v1beta2", "Version of the App Mesh CRDs (appmesh.k8s.aws).")
	fs.StringArrayVar(&o.nginxIngressClasses, "nginx-ingress-classes", []string{"nginx"}, "Ingress classes of the NGINX controller: a change to an Ingress of one of these classes re-runs the Rollouts that use it.")
	addALBFlags(fs, o)

	fs.BoolVar(&o.selfServiceNotifications, "self-service-notification-enabled", false, "Also read argo-rollouts-notification-configmap and argo-rollouts-notification-secret from each Rollout's own namespace.")

	addCompatibilityFlags(fs)
	return fs
}

// unsupportedFlags are Argo Rollouts' flags for parts Serin does not have
// (yet), with what Serin does instead. They are defined, so that --help
// lists them and their defaults parse, but setting one is refused at
// start-up: a flag that silently does nothing would mislead.
var unsupportedFlags = map[string]string{
	"ingress-threads":                       "Ingress changes are handled by the Rollout workers (--rollout-threads)",
	"ephemeral-metadata-threads":            "pod metadata is updated by the Rollout workers (--rollout-threads)",
	"ephemeral-metadata-update-pod-retries": "a pod metadata update that fails is retried by the next reconcile of its Rollout",
}

// addCompatibilityFlags defines unsupportedFlags with Argo Rollouts'
// defaults; refuseUnsupportedFlags rejects any of them that is set.
func addCompatibilityFlags(fs *pflag.FlagSet) {
	const note = " (Argo Rollouts' flag; refused by Serin: "
	ints := map[string]int{
		"ingress-threads":            10,
		"ephemeral-metadata-threads": 10, "ephemeral-metadata-update-pod-retries": 3,
	}
	for _, name := range slices.Sorted(maps.Keys(ints)) {
		fs.Int(name, ints[name], strings.ReplaceAll(name, "-", " ")+note+unsupportedFlags[name]+")")
	}
}

// refuseUnsupportedFlags fails when any of unsupportedFlags was set, naming
// each and what Serin does instead.
func refuseUnsupportedFlags(fs *pflag.FlagSet) error {
	var set []string
	for _, name := range slices.Sorted(maps.Keys(unsupportedFlags)) {
		if fs.Changed(name) {
			set = append(set, "--"+name+": "+unsupportedFlags[name])
		}
	}
	if len(set) == 0 {
		return nil
	}
	return fmt.Errorf("flags of Argo Rollouts that Serin does not act on were set; remove them:\n  %s", strings.Join(set, "\n  "))
}

// validate rejects settings the controller cannot run with.
func (o *options) validate() error {
	if _, _, err := parseLogLevel(o.logLevel); err != nil {
		return err
	}
	if f := strings.ToLower(o.logFormat); f != "text" && f != "json" && f != "" {
		return fmt.Errorf("--logformat %q: want text or json", o.logFormat)
	}
	if _, err := instanceIDSelector(o.instanceID); err != nil {
		return err
	}
	for _, c := range o.controllers {
		if c != analysisOnly {
			return fmt.Errorf("--controllers %q: the only supported value is %q", c, analysisOnly)
		}
	}
	if o.rolloutThreads < 1 || o.analysisThreads < 1 || o.experimentThreads < 1 || o.serviceThreads < 1 {
		return fmt.Errorf("thread counts must be at least 1")
	}
	if o.resyncSeconds < 0 {
		return fmt.Errorf("--rollout-resync must not be negative")
	}
	if o.pluginCallTimeout <= 0 {
		return fmt.Errorf("--plugin-call-timeout must be positive")
	}
	if o.leaderElect && o.renewDeadline > o.leaseDuration {
		return fmt.Errorf("--leader-election-renew-deadline (%v) must not exceed --leader-election-lease-duration (%v)", o.renewDeadline, o.leaseDuration)
	}
	return nil
}

// clientConfig resolves how to reach the cluster: --kubeconfig or
// $KUBECONFIG or ~/.kube/config, else the in-cluster service account.
func (o *options) clientConfig() clientcmd.ClientConfig {
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(o.loadingRules, &o.overrides)
}

// runsRollouts reports whether this process runs the Rollout (and
// Experiment) controllers, i.e. not --controllers=analysis.
func (o *options) runsRollouts() bool { return len(o.controllers) == 0 }

// saNamespaceFile holds the pod's namespace in cluster.
const saNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// defaultControllerNamespace is Argo Rollouts' namespace, used when the
// controller cannot tell its own.
const defaultControllerNamespace = "argo-rollouts"

// controllerNamespace is where the controller lives and keeps its Lease:
// $POD_NAMESPACE (set through the downward API), else the service account's
// namespace, else argo-rollouts.
func controllerNamespace(lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) string {
	if ns, ok := lookupEnv("POD_NAMESPACE"); ok && ns != "" {
		return ns
	}
	if b, err := readFile(saNamespaceFile); err == nil {
		if ns := strings.TrimSpace(string(b)); ns != "" {
			return ns
		}
	}
	return defaultControllerNamespace
}

// watchNamespace is the namespace the informers cover: all of them, or with
// --namespaced the client configuration's namespace (the kubeconfig context's
// or --namespace; in cluster $POD_NAMESPACE or the service account's).
func (o *options) watchNamespace(cc clientcmd.ClientConfig) (string, error) {
	if !o.namespaced {
		return metav1.NamespaceAll, nil
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return "", fmt.Errorf("--namespaced: cannot tell the namespace: %w", err)
	}
	return ns, nil
}

// instanceIDSelector selects the objects of this controller instance: those
// labelled with its --instance-id, or, without one, those carrying no
// instance id at all. It fails for an id that is not a valid label value.
func instanceIDSelector(instanceID string) (string, error) {
	op, values := selection.DoesNotExist, []string(nil)
	if instanceID != "" {
		op, values = selection.Equals, []string{instanceID}
	}
	req, err := labels.NewRequirement(v1alpha1.LabelControllerInstanceID, op, values)
	if err != nil {
		return "", fmt.Errorf("--instance-id %q: %w", instanceID, err)
	}
	return labels.NewSelector().Add(*req).String(), nil
}

// leaseName is the Lease that elects the leader among replicas of one
// instance.
func leaseName(instanceID string) string {
	if instanceID == "" {
		return "argo-rollouts-controller-lock"
	}
	return "argo-rollouts-controller-lock-" + instanceID
}

// identity is this process's name in the Lease: host name plus a random
// suffix, so two processes on one host never both think they lead.
func identity(uid string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "serin-controller"
	}
	return host + "_" + uid
}

// routerConfig is the traffic routers' configuration from the flags.
func (o *options) routerConfig() routers.Config {
	return routers.Config{
		IstioAPIVersion:     o.istioAPIVersion,
		IngressAPIVersion:   o.ingressAPIVersion,
		SMIAPIVersion:       o.trafficSplitAPIVersion,
		NginxIngressClasses: o.nginxIngressClasses,
		ALBIngressClasses:   o.albIngressClasses,

		AmbassadorAPIVersion: o.ambassadorAPIVersion,
		TraefikAPIGroup:      o.traefikAPIGroup,
		TraefikAPIVersion:    o.traefikAPIVersion,
		AppMeshCRDVersion:    o.appmeshCRDVersion,
	}
}

// addALBFlags defines Argo Rollouts' ALB flags, with its defaults.
func addALBFlags(fs *pflag.FlagSet, o *options) {
	fs.StringArrayVar(&o.albIngressClasses, "alb-ingress-classes", []string{"alb"}, "Ingress classes of the AWS Load Balancer Controller: a change to an Ingress of one of these classes re-runs the Rollouts that use it.")
	fs.BoolVar(&o.awsVerifyTargetGroup, "aws-verify-target-group", false, "Verify through the AWS ELBv2 API that ALB target groups carry the weights set and (with a TargetGroupBinding) every pod, before moving on (needs AWS credentials).")
	fs.BoolVar(&o.awsVerifyTargetGroup, "alb-verify-weight", false, "Same as --aws-verify-target-group.")
	_ = fs.MarkDeprecated("alb-verify-weight", "use --aws-verify-target-group instead")
	fs.StringVar(&o.targetGroupBindingVersion, "aws-target-group-binding-api-version", "elbv2.k8s.aws/v1beta1", "API version of the AWS Load Balancer Controller's TargetGroupBindings, read when verifying target groups.")
	fs.StringVar(&o.albTagKeyResourceID, "alb-tag-key-resource-id", "ingress.k8s.aws/resource", "Tag key of the target groups' resource ID (<namespace>/<ingress>-<service>:<port>), read when verifying weights.")
}
