package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/e2e/cluster/exporter"
)

// group runs functions concurrently. The first error is kept and cancels the
// group's context, so that the others stop waiting.
type group struct {
	wg     sync.WaitGroup
	once   sync.Once
	err    error
	cancel context.CancelFunc
}

func newGroup(ctx context.Context) (*group, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	return &group{cancel: cancel}, ctx
}

func (g *group) Go(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.once.Do(func() { g.err = err; g.cancel() })
		}
	}()
}

func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}

// launch starts a component binary from bin/ and records it for Stop.
func (c *Cluster) launch(name string, args []string) (*process, error) {
	return c.launchPath(name, filepath.Join(BinDir(c.repoRoot), name), args)
}

func (c *Cluster) launchPath(name, bin string, args []string) (*process, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil, errors.New("cluster stopped while starting")
	}
	p, err := startProcess(name, c.files.dir, bin, args...)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	return p, nil
}

// start brings the components up in dependency order, overlapping whatever
// does not depend on the API server with its start.
func (c *Cluster) start(ctx context.Context) error {
	var err error
	if c.ports, err = allocatePorts(); err != nil {
		return err
	}
	if c.token, err = randomToken(); err != nil {
		return err
	}
	var in inputs
	prep := c.prepare(ctx, &in)
	prom, etcd, err := c.startStorageAndMetrics()
	if err != nil {
		return err
	}
	if err := c.writeConfigs(); err != nil {
		return err
	}
	apiserver, err := c.startAPIServer(ctx, etcd)
	if err != nil {
		return err
	}
	if err := prep.Wait(); err != nil {
		return err
	}
	if err := writeFile(c.files.stages, in.stageDoc, 0o644); err != nil {
		return err
	}
	return c.startTheRest(ctx, apiserver, prom, in.crdObjs)
}

// inputs are what start reads while the control plane comes up: the CRDs
// to install and kwok's stages.
type inputs struct {
	crdObjs  []*unstructured.Unstructured
	stageDoc []byte
}

// prepare does, in the background, the work that needs no API server: the
// go command's module lookups for the CRDs and kwok's stages.
func (c *Cluster) prepare(ctx context.Context, in *inputs) *group {
	prep, pctx := newGroup(ctx)
	prep.Go(func() error {
		files, err := crdFiles(pctx, c.repoRoot, c.opts)
		if err != nil {
			return err
		}
		if in.crdObjs, err = readObjects(files); err != nil {
			return err
		}
		smi, err := smiCRD()
		in.crdObjs = append(in.crdObjs, smi)
		return err
	})
	prep.Go(func() error {
		s, err := inspectTool(c.repoRoot, toolNamed("kwok"))
		if err != nil {
			return err
		}
		dir, err := moduleDir(pctx, s.module, s.version)
		if err != nil {
			return err
		}
		in.stageDoc, err = kwokStages(dir)
		return err
	})
	return prep
}

// startStorageAndMetrics starts the exporter, Prometheus and etcd.
func (c *Cluster) startStorageAndMetrics() (prom, etcd *process, err error) {
	if c.exporter, err = exporter.Start(); err != nil {
		return nil, nil, err
	}
	promCfg, err := prometheusConfigYAML(append([]string{c.exporter.Addr()}, c.opts.ScrapeTargets...))
	if err != nil {
		return nil, nil, err
	}
	if err := writeFile(c.files.promConfig, promCfg, 0o644); err != nil {
		return nil, nil, err
	}
	prom, err = c.launchPath("prometheus", PrometheusBinary, prometheusArgs(c.files.promConfig, filepath.Join(c.files.dir, "prometheus"), c.ports.prometheus))
	if err != nil {
		return nil, nil, err
	}
	etcd, err = c.launch("etcd", etcdArgs(c.files, c.ports))
	return prom, etcd, err
}

// writeConfigs writes, while etcd starts, the keys, tokens, kubeconfig and
// scheduler configuration.
func (c *Cluster) writeConfigs() error {
	f := c.files
	if err := writeServiceAccountKeys(f.saKey, f.saPub); err != nil {
		return err
	}
	if err := writeTokenFile(f.tokens, c.token); err != nil {
		return err
	}
	kubeconfig, err := kubeconfigYAML(c.APIServerURL(), c.token)
	if err != nil {
		return err
	}
	schedCfg, err := schedulerConfigYAML(f.kubeconfig)
	if err != nil {
		return err
	}
	if err := writeFile(f.kubeconfig, kubeconfig, 0o600); err != nil {
		return err
	}
	return writeFile(f.schedulerConfig, schedCfg, 0o644)
}

// startAPIServer starts kube-apiserver once etcd is healthy, waits for it
// to be ready and makes the clients.
func (c *Cluster) startAPIServer(ctx context.Context, etcd *process) (*process, error) {
	if err := waitHTTP(ctx, etcd, insecureClient, "http://"+local(c.ports.etcd)+"/health", ""); err != nil {
		return nil, err
	}
	apiserver, err := c.launch("kube-apiserver", apiserverArgs(c.files, c.ports, c.opts.PriorityAndFairness))
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, apiserver, insecureClient, c.APIServerURL()+"/readyz", c.token); err != nil {
		return nil, err
	}
	return apiserver, c.loadClients()
}

// startTheRest starts the controller manager, the scheduler and kwok, and
// waits until each is healthy, the node is Ready, the CRDs are installed,
// the default ServiceAccount exists and Prometheus has scraped once.
func (c *Cluster) startTheRest(ctx context.Context, apiserver, prom *process, crdObjs []*unstructured.Unstructured) error {
	f := c.files
	kcm, err := c.launch("kube-controller-manager", controllerManagerArgs(f, c.ports))
	if err != nil {
		return err
	}
	sched, err := c.launch("kube-scheduler", schedulerArgs(f, c.ports))
	if err != nil {
		return err
	}
	kwok, err := c.launch("kwok", kwokArgs(f, c.ports))
	if err != nil {
		return err
	}
	ready, ctx := newGroup(ctx)
	ready.Go(func() error {
		return waitHTTP(ctx, kcm, insecureClient, "https://"+local(c.ports.controllerManager)+"/healthz", "")
	})
	ready.Go(func() error {
		return waitHTTP(ctx, sched, insecureClient, "https://"+local(c.ports.scheduler)+"/healthz", "")
	})
	ready.Go(func() error { return c.nodeUp(ctx, kwok) })
	ready.Go(func() error {
		if err := ApplyObjects(ctx, c.restCfg, crdObjs); err != nil {
			if ctx.Err() != nil {
				return apiserver.failure(err)
			}
			return fmt.Errorf("installing CRDs: %w", err)
		}
		return nil
	})
	ready.Go(func() error {
		return waitFor(ctx, kcm, "ServiceAccount default/default", defaultServiceAccount(c.client, "default"))
	})
	ready.Go(func() error {
		if err := waitHTTP(ctx, prom, insecureClient, c.PrometheusURL()+"/-/ready", ""); err != nil {
			return err
		}
		return c.waitScraped(ctx, prom)
	})
	return ready.Wait()
}

// nodeUp waits for kwok, registers the fake node and waits until it is Ready.
func (c *Cluster) nodeUp(ctx context.Context, kwok *process) error {
	if err := waitHTTP(ctx, kwok, insecureClient, "http://"+local(c.ports.kwok)+"/healthz", ""); err != nil {
		return err
	}
	if err := createNode(ctx, c.client); err != nil {
		return kwok.failure(err)
	}
	return waitFor(ctx, kwok, "node "+NodeName+" Ready", nodeReady(c.client))
}

// waitScraped waits until Prometheus has scraped the exporter once.
func (c *Cluster) waitScraped(ctx context.Context, prom *process) error {
	query := fmt.Sprintf(`up{instance=%q}`, c.exporter.Addr())
	if err := WaitForPrometheusValue(ctx, c.PrometheusURL(), query, 1); err != nil {
		return prom.failure(err)
	}
	return nil
}

func writeFile(path string, data []byte, perm os.FileMode) error {
	return os.WriteFile(path, data, perm)
}

// waitHTTP polls url until it answers 200, failing early if p exits.
func waitHTTP(ctx context.Context, p *process, client *http.Client, url, token string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if done, werr := p.exited(); done {
			return p.failure(fmt.Errorf("exited before %s answered: %v", url, werr))
		}
		select {
		case <-ctx.Done():
			return p.failure(fmt.Errorf("%s not ready: %w", url, ctx.Err()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
