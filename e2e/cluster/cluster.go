// Package cluster runs a real Kubernetes control plane on 127.0.0.1 for
// Serin's end-to-end tests: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler built from pinned Go modules, kwok as the fake kubelet of one
// node, Prometheus scraping a test-controlled exporter, and the Serin, Istio
// and Gateway API CRDs.
//
//	c, err := cluster.Start(ctx, cluster.Options{})
//	defer c.Stop()
//	c.Client().AppsV1().Deployments("default").Create(...)
//	c.Exporter().Set("success_rate", map[string]string{"service": "demo-canary"}, 0.8)
//	c.WaitForPrometheusValue(ctx, `success_rate{service="demo-canary"}`, 0.8)
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/serin-dev/serin/e2e/cluster/exporter"
)

// Options configure Start. The zero value is usable.
type Options struct {
	// RepoRoot holds bin/ and manifests/crds/; default: found from the working directory.
	RepoRoot string
	// Dir holds the cluster's state, logs and kubeconfig. Default: a new temp
	// dir. An existing Dir must be empty or a previous cluster's.
	Dir string
	// KeepDir leaves Dir in place on Stop (logs for debugging).
	KeepDir bool
	// Build builds missing or stale binaries first instead of failing.
	Build bool
	// Out receives progress; default os.Stdout.
	Out io.Writer
	// NoSignalHandler leaves SIGINT and SIGTERM to the caller, who must then
	// call Stop. By default they stop every cluster and end the process.
	NoSignalHandler bool
	// ScrapeTargets are extra host:port targets for Prometheus.
	ScrapeTargets []string
	// SkipProjectCRDs leaves out <RepoRoot>/manifests/crds (Istio and
	// Gateway API CRDs are still installed).
	SkipProjectCRDs bool
	// ArgoCRDDir, when set, holds the argoproj.io CRDs to install instead of
	// <RepoRoot>/manifests/crds: Argo Rollouts' own, as a user's Helm chart
	// installed them, say.
	ArgoCRDDir string
	// PriorityAndFairness turns on the API server's API Priority and
	// Fairness (off by default, so that only requests in flight are
	// limited).
	PriorityAndFairness bool
	// Timeout bounds the start; default 2 minutes.
	Timeout time.Duration
}

// Cluster is a running control plane. Stop it when done.
type Cluster struct {
	opts     Options
	repoRoot string
	files    files
	ports    ports
	token    string
	procs    []*process
	restCfg  *rest.Config
	client   kubernetes.Interface
	dynamic  dynamic.Interface
	exporter *exporter.Exporter
	stopOnce sync.Once
	mu       sync.Mutex // guards procs and stopped
	stopped  bool
}

const dirMarker = ".serin-e2e-cluster"

// Start starts a cluster and returns once every component is ready: the fake
// node is Ready, every CRD is Established, the default ServiceAccount exists
// and Prometheus scrapes the exporter.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.RepoRoot == "" {
		var err error
		if opts.RepoRoot, err = FindRepoRoot(); err != nil {
			return nil, err
		}
	}
	if opts.Build {
		if err := BuildTo(ctx, opts.RepoRoot, opts.Out); err != nil {
			return nil, err
		}
	} else if !BinariesReady(opts.RepoRoot) {
		return nil, fmt.Errorf("cluster binaries in %s are missing or stale: run `go run ./cmd/cluster build` in e2e/", BinDir(opts.RepoRoot))
	}
	if err := EnsurePrometheus(ctx, opts.Out); err != nil {
		return nil, err
	}

	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	dir, err := prepareDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, repoRoot: opts.RepoRoot, files: clusterFiles(dir)}
	register(c, !opts.NoSignalHandler)
	if err := c.start(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	fmt.Fprintf(opts.Out, "cluster ready in %.1fs (kubeconfig %s)\n", time.Since(began).Seconds(), c.files.kubeconfig)
	return c, nil
}

// prepareDir creates a temp dir, or empties a given one that is unused or a
// previous cluster's.
func prepareDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "serin-e2e-cluster-")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, dirMarker)); err != nil {
			return "", fmt.Errorf("%s is not empty and was not made by a previous cluster", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, dirMarker), nil, 0o644)
}

// Stop kills every component (process groups) and removes the cluster's
// directory unless KeepDir. It is safe to call more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		unregister(c)
		c.mu.Lock()
		c.stopped = true
		procs := c.procs
		c.mu.Unlock()
		// Reverse start order: the API server shuts down quickly only while
		// etcd is still there.
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop(5 * time.Second)
		}
		if c.exporter != nil {
			_ = c.exporter.Close()
		}
		if !c.opts.KeepDir && c.files.dir != "" {
			_ = os.RemoveAll(c.files.dir)
		}
	})
}

// Kubeconfig is the path of the admin kubeconfig file.
func (c *Cluster) Kubeconfig() string { return c.files.kubeconfig }

// Dir is the cluster's directory (state, logs, kubeconfig).
func (c *Cluster) Dir() string { return c.files.dir }

// RESTConfig returns a copy of the admin client configuration.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.restCfg) }

// Client is a typed admin client.
func (c *Cluster) Client() kubernetes.Interface { return c.client }

// Dynamic is a dynamic admin client.
func (c *Cluster) Dynamic() dynamic.Interface { return c.dynamic }

// APIServerURL is the https URL of kube-apiserver.
func (c *Cluster) APIServerURL() string { return "https://" + local(c.ports.apiserver) }

// PrometheusURL is the base URL of Prometheus' HTTP API.
func (c *Cluster) PrometheusURL() string { return "http://" + local(c.ports.prometheus) }

// Exporter is the metrics exporter Prometheus scrapes.
func (c *Cluster) Exporter() *exporter.Exporter { return c.exporter }

// Pids lists the process ids (each also a process group id) of the components.
func (c *Cluster) Pids() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	pids := make([]int, 0, len(c.procs))
	for _, p := range c.procs {
		pids = append(pids, p.Pid())
	}
	return pids
}

// WaitForPrometheusValue polls the PromQL query until it yields want.
func (c *Cluster) WaitForPrometheusValue(ctx context.Context, query string, want float64) error {
	return WaitForPrometheusValue(ctx, c.PrometheusURL(), query, want)
}

// QueryPrometheus runs an instant query that must yield one sample.
func (c *Cluster) QueryPrometheus(ctx context.Context, query string) (float64, error) {
	return QueryPrometheus(ctx, c.PrometheusURL(), query)
}

// Kubectl runs the pinned bin/kubectl against the cluster and returns its
// combined output.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) ([]byte, error) {
	bin, err := binPath(c.repoRoot, "kubectl")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", c.files.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("kubectl %v: %w\n%s", args, err, out)
	}
	return out, nil
}

// CreateNamespace creates a namespace (if absent) and waits for its default
// ServiceAccount, without which pods cannot be created.
func (c *Cluster) CreateNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return waitFor(ctx, nil, "ServiceAccount "+name+"/default", defaultServiceAccount(c.client, name))
}

// ApplyFiles server-side applies YAML files and waits for their CRDs.
func (c *Cluster) ApplyFiles(ctx context.Context, files ...string) error {
	return ApplyFiles(ctx, c.restCfg, files...)
}

func (c *Cluster) loadClients() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.files.kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 500, 1000
	c.restCfg = cfg
	if c.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	c.dynamic, err = dynamic.NewForConfig(cfg)
	return err
}
