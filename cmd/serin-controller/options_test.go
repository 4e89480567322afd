package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func parse(t *testing.T, args ...string) *options {
	t.Helper()
	o := &options{}
	fs := newFlagSet(o)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return o
}

func TestFlagDefaults(t *testing.T) {
	o := parse(t)
	for name, c := range map[string]struct{ got, want any }{
		"namespaced":                     {o.namespaced, false},
		"instance-id":                    {o.instanceID, ""},
		"rollout-resync":                 {o.resyncSeconds, int64(900)},
		"leader-elect":                   {o.leaderElect, true},
		"leader-election-lease-duration": {o.leaseDuration, 15 * time.Second},
		"leader-election-renew-deadline": {o.renewDeadline, 10 * time.Second},
		"leader-election-retry-period":   {o.retryPeriod, 2 * time.Second},
		"rollout-threads":                {o.rolloutThreads, 50},
		"analysis-threads":               {o.analysisThreads, 30},
		"experiment-threads":             {o.experimentThreads, 10},
		"metricsPort":                    {o.metricsPort, 8090},
		"healthzPort":                    {o.healthzPort, 8080},
		"loglevel":                       {o.logLevel, "info"},
		"logformat":                      {o.logFormat, "text"},
		"kloglevel":                      {o.klogLevel, 0},
		"qps":                            {o.qps, float32(40)},
		"burst":                          {o.burst, 80},
		"version":                        {o.printVersion, false},
		"kubeconfig":                     {o.loadingRules.ExplicitPath, ""},
		"plugin-dir":                     {o.pluginDir, "plugin-bin"},
		"plugin-call-timeout":            {o.pluginCallTimeout, 30 * time.Second},
	} {
		if c.got != c.want {
			t.Errorf("--%s defaults to %v, want %v", name, c.got, c.want)
		}
	}
	if err := o.validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	if !o.runsRollouts() {
		t.Error("by default the Rollout controller should run")
	}
}

func TestFlags(t *testing.T) {
	o := parse(t,
		"--kubeconfig", "/tmp/kc", "--master", "https://10.0.0.1:6443", "--context", "dev",
		"--namespaced", "--instance-id", "blue", "--rollout-resync", "60",
		"--leader-elect=false", "--leader-election-lease-duration", "30s",
		"--rollout-threads", "3", "--analysis-threads", "4", "--experiment-threads", "5",
		"--healthzPort", "9080", "--loglevel", "debug", "--logformat", "json", "--kloglevel", "2",
		"--qps", "50.5", "--burst", "100", "--controllers", "analysis", "--enable-pprof-address", "127.0.0.1:6060",
	)
	if o.loadingRules.ExplicitPath != "/tmp/kc" || o.overrides.ClusterInfo.Server != "https://10.0.0.1:6443" || o.overrides.CurrentContext != "dev" {
		t.Errorf("client flags: kubeconfig %q server %q context %q", o.loadingRules.ExplicitPath, o.overrides.ClusterInfo.Server, o.overrides.CurrentContext)
	}
	if !o.namespaced || o.instanceID != "blue" || o.resyncSeconds != 60 || o.leaderElect || o.leaseDuration != 30*time.Second {
		t.Errorf("got %+v", o)
	}
	if o.rolloutThreads != 3 || o.analysisThreads != 4 || o.experimentThreads != 5 || o.healthzPort != 9080 {
		t.Errorf("got %+v", o)
	}
	if o.logLevel != "debug" || o.logFormat != "json" || o.klogLevel != 2 || o.qps != 50.5 || o.burst != 100 {
		t.Errorf("got %+v", o)
	}
	if o.runsRollouts() || o.pprofAddress != "127.0.0.1:6060" {
		t.Errorf("--controllers=analysis: runsRollouts %v; pprof %q", o.runsRollouts(), o.pprofAddress)
	}
	if err := o.validate(); err != nil {
		t.Error(err)
	}
}

func TestBothMetricsPortSpellings(t *testing.T) {
	if o := parse(t, "--metricsPort", "9001"); o.metricsPort != 9001 {
		t.Errorf("--metricsPort: %d", o.metricsPort)
	}
	if o := parse(t, "--metricsport", "9002"); o.metricsPort != 9002 {
		t.Errorf("--metricsport (deprecated): %d", o.metricsPort)
	}
	if o := parse(t, "--metricsport=9003", "--metricsPort=9004"); o.metricsPort != 9004 {
		t.Errorf("both given: %d, want the last", o.metricsPort)
	}
}

func TestUpstreamFlagsThatWorkAreAccepted(t *testing.T) {
	o := &options{}
	fs := newFlagSet(o)
	if err := fs.Parse([]string{"--service-threads", "5", "--istio-api-version", "v1beta1", "--nginx-ingress-classes", "n",
		"--ingress-api-version", "networking.k8s.io/v1", "--traffic-split-api-version", "v1alpha2",
		"--alb-ingress-classes", "a", "--alb-verify-weight", "--aws-verify-target-group", "--aws-target-group-binding-api-version", "elbv2.k8s.aws/v1beta1",
		"--alb-tag-key-resource-id", "ingress.k8s.aws/resource"}); err != nil {
		t.Fatal(err)
	}
	if err := refuseUnsupportedFlags(fs); err != nil {
		t.Fatalf("flags that work were refused: %v", err)
	}
}

// TestTheHelmChartsArgumentsStart passes the arguments Argo Rollouts' Helm
// chart gives its controller (namespaced, with two replicas): a user who
// only swaps the image keeps every one of them.
func TestTheHelmChartsArgumentsStart(t *testing.T) {
	o := &options{}
	fs := newFlagSet(o)
	args := []string{"--healthzPort=8080", "--metricsport=8090", "--loglevel=info", "--logformat=text", "--kloglevel=0", "--namespaced", "--leader-elect"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := refuseUnsupportedFlags(fs); err != nil {
		t.Fatalf("the chart's arguments were refused: %v", err)
	}
	if err := o.validate(); err != nil {
		t.Fatalf("the chart's arguments do not validate: %v", err)
	}
	if o.healthzPort != 8080 || o.metricsPort != 8090 || !o.namespaced || !o.leaderElect {
		t.Fatalf("options %+v do not follow the chart's arguments", o)
	}
}

func TestUpstreamFlagsSerinDoesNotActOnAreRefusedByName(t *testing.T) {
	o := &options{}
	fs := newFlagSet(o)
	// Their defaults parse (so --help and an untouched Deployment work)...
	if err := refuseUnsupportedFlags(fs); err != nil {
		t.Fatalf("no flag set, yet refused: %v", err)
	}
	// ...but setting one is refused with what Serin does instead.
	if err := fs.Parse([]string{"--ingress-threads", "5"}); err != nil {
		t.Fatal(err)
	}
	err := refuseUnsupportedFlags(fs)
	if err == nil {
		t.Fatal("unsupported flags were accepted silently")
	}
	for _, want := range []string{"--ingress-threads: Ingress changes are handled by the Rollout workers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if len(unsupportedFlags) != 3 {
		t.Errorf("%d unsupported flags listed; a flag that starts working leaves the list", len(unsupportedFlags))
	}
}

func TestValidate(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown log level":      {"--loglevel", "loud"},
		"unknown log format":     {"--logformat", "xml"},
		"unknown controller":     {"--controllers", "rollouts"},
		"no workers":             {"--rollout-threads", "0"},
		"renew beyond lease":     {"--leader-election-renew-deadline", "20s"},
		"instance id with space": {"--instance-id", "a b"},
		"no plugin call time":    {"--plugin-call-timeout", "0s"},
	} {
		if err := parse(t, args...).validate(); err == nil {
			t.Errorf("%s (%v): validated", name, args)
		}
	}
}

func TestControllerNamespace(t *testing.T) {
	env := func(vals map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vals[k]; return v, ok }
	}
	file := func(content string) func(string) ([]byte, error) {
		return func(path string) ([]byte, error) {
			if path != saNamespaceFile {
				t.Errorf("read %s", path)
			}
			if content == "" {
				return nil, &fs.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
			}
			return []byte(content), nil
		}
	}
	for name, c := range map[string]struct {
		env  map[string]string
		file string
		want string
	}{
		"POD_NAMESPACE wins":         {map[string]string{"POD_NAMESPACE": "rollouts"}, "from-file", "rollouts"},
		"service account namespace":  {nil, "from-file\n", "from-file"},
		"empty POD_NAMESPACE":        {map[string]string{"POD_NAMESPACE": ""}, "from-file", "from-file"},
		"nothing: upstream default":  {nil, "", "argo-rollouts"},
		"blank service account file": {nil, "  \n", "argo-rollouts"},
	} {
		if got := controllerNamespace(env(c.env), file(c.file)); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}

func TestWatchNamespace(t *testing.T) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://example.invalid"}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u", Namespace: "team-a"}
	cfg.CurrentContext = "ctx"
	cc := clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{})

	if ns, err := parse(t).watchNamespace(cc); err != nil || ns != "" {
		t.Errorf("cluster-wide: %q, %v; want all namespaces", ns, err)
	}
	if ns, err := parse(t, "--namespaced").watchNamespace(cc); err != nil || ns != "team-a" {
		t.Errorf("--namespaced: %q, %v; want the context's namespace", ns, err)
	}
}

func TestInstanceIDSelector(t *testing.T) {
	none, err := instanceIDSelector("")
	if err != nil || none != "!argo-rollouts.argoproj.io/controller-instance-id" {
		t.Errorf("no instance id: %q, %v", none, err)
	}
	blue, err := instanceIDSelector("blue")
	if err != nil || blue != "argo-rollouts.argoproj.io/controller-instance-id=blue" {
		t.Errorf("instance id blue: %q, %v", blue, err)
	}
	key := "argo-rollouts.argoproj.io/controller-instance-id"
	for _, c := range []struct {
		selector string
		labels   labels.Set
		want     bool
	}{
		{none, labels.Set{}, true},
		{none, labels.Set{key: "blue"}, false},
		{blue, labels.Set{key: "blue"}, true},
		{blue, labels.Set{key: "green"}, false},
		{blue, labels.Set{}, false},
	} {
		sel, err := labels.Parse(c.selector)
		if err != nil {
			t.Fatal(err)
		}
		if got := sel.Matches(c.labels); got != c.want {
			t.Errorf("%q matches %v = %v, want %v", c.selector, c.labels, got, c.want)
		}
	}
	if _, err := instanceIDSelector("not valid!"); err == nil {
		t.Error("invalid label value accepted")
	}
}

func TestLeaseName(t *testing.T) {
	if got := leaseName(""); got != "argo-rollouts-controller-lock" {
		t.Errorf("leaseName() = %q", got)
	}
	if got := leaseName("blue"); got != "argo-rollouts-controller-lock-blue" {
		t.Errorf("leaseName(blue) = %q", got)
	}
}

func TestVersionFlag(t *testing.T) {
	version = "v9.9.9"
	defer func() { version = "" }()
	var out bytes.Buffer
	if code := mainExit([]string{"--version"}, &out, io.Discard); code != 0 || out.String() != "v9.9.9\n" {
		t.Errorf("--version: exit %d, output %q", code, out.String())
	}
	if code := mainExit([]string{"--no-such-flag"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if code := mainExit([]string{"--loglevel", "loud"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("bad loglevel: exit %d, want 2", code)
	}
}

func TestRouterFlagsConfigureTheRouters(t *testing.T) {
	defaults := parse(t).routerConfig()
	if defaults.IstioAPIVersion != "v1alpha3" || defaults.SMIAPIVersion != "v1alpha1" || defaults.IngressAPIVersion != "" ||
		strings.Join(defaults.NginxIngressClasses, ",") != "nginx" {
		t.Fatalf("defaults %+v, want Argo Rollouts'", defaults)
	}
	cfg := parse(t, "--istio-api-version", "v1beta1", "--ingress-api-version", "extensions/v1beta1",
		"--traffic-split-api-version", "v1alpha3", "--nginx-ingress-classes", "internal", "--nginx-ingress-classes", "public").routerConfig()
	var got []string
	for _, gvr := range cfg.Resources() {
		got = append(got, gvr.GroupVersion().String()+"/"+gvr.Resource)
	}
	for _, want := range []string{"networking.istio.io/v1beta1/virtualservices", "extensions/v1beta1/ingresses", "split.smi-spec.io/v1alpha3/trafficsplits"} {
		if !slices.Contains(got, want) {
			t.Errorf("routers use %v, want %s among them", got, want)
		}
	}
	alb := parse(t, "--alb-ingress-classes", "internal-alb", "--alb-verify-weight", "--alb-tag-key-resource-id", "k", "--aws-target-group-binding-api-version", "elbv2.k8s.aws/v1")
	if got := alb.routerConfig().ALBIngressClasses; strings.Join(got, ",") != "internal-alb" || !alb.awsVerifyTargetGroup ||
		alb.albTagKeyResourceID != "k" || alb.targetGroupBindingVersion != "elbv2.k8s.aws/v1" {
		t.Errorf("ALB flags not applied: classes %v, options %+v", got, alb)
	}
	if d := parse(t); d.awsVerifyTargetGroup || d.albTagKeyResourceID != "ingress.k8s.aws/resource" || d.targetGroupBindingVersion != "elbv2.k8s.aws/v1beta1" || strings.Join(d.albIngressClasses, ",") != "alb" {
		t.Errorf("ALB defaults %+v, want Argo Rollouts'", d)
	}
	mesh := parse(t, "--ambassador-api-version", "x.getambassador.io/v3alpha1", "--traefik-api-group", "traefik.containo.us",
		"--traefik-api-version", "traefik.containo.us/v1alpha1", "--appmesh-crd-version", "v1beta3").routerConfig()
	got = nil
	for _, gvr := range mesh.Resources() {
		got = append(got, gvr.GroupVersion().String()+"/"+gvr.Resource)
	}
	for _, want := range []string{"x.getambassador.io/v3alpha1/ambassadormappings", "traefik.containo.us/v1alpha1/traefikservices", "appmesh.k8s.aws/v1beta3/virtualrouters"} {
		if !slices.Contains(got, want) {
			t.Errorf("routers use %v, want %s among them", got, want)
		}
	}
	if strings.Join(cfg.NginxIngressClasses, ",") != "internal,public" {
		t.Errorf("nginx classes %v", cfg.NginxIngressClasses)
	}
}

// --self-service-notification-enabled is accepted and turns on reading each
// Rollout's namespace for notification configuration; it is off by default.
func TestSelfServiceNotificationFlag(t *testing.T) {
	if parse(t).selfServiceNotifications {
		t.Error("self-service notifications are on by default")
	}
	o := &options{}
	fs := newFlagSet(o)
	if err := fs.Parse([]string{"--self-service-notification-enabled"}); err != nil {
		t.Fatal(err)
	}
	if err := refuseUnsupportedFlags(fs); err != nil {
		t.Errorf("the flag is refused: %v", err)
	}
	if !o.selfServiceNotifications {
		t.Error("the flag did not turn self-service notifications on")
	}
}
