// Package framework runs Serin's end-to-end tests: one local cluster and one
// controller (the built bin/serin-controller binary) per `go test` run, a
// namespace per test, and a small given/when/then vocabulary for rollouts.
package framework

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/serin-dev/serin/e2e/cluster"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
)

// Env is the cluster and controller shared by every test of a package.
type Env struct {
	Cluster  *cluster.Cluster
	Kube     kubernetes.Interface
	Rollouts versioned.Interface
	root     string
	logPath  string

	mu         sync.Mutex
	controller *process
	restarts   int
	// use is what the controller processes asked the API server for.
	use apiUse
	// ControllerArgs and ControllerEnv are added to the arguments and the
	// environment of every controller process; set them in MainWith's
	// set-up, before the controller starts.
	ControllerArgs []string
	ControllerEnv  []string
}

// process is a running controller and a channel closed when it has exited.
type process struct {
	cmd         *exec.Cmd
	done        chan struct{}
	metricsPort int
}

var env *Env

// ControllerNamespace is where the controller runs (its Lease lives there).
const ControllerNamespace = "argo-rollouts"

// PluginCallTimeout is the controller's --plugin-call-timeout.
const PluginCallTimeout = 5 * time.Second

// Main starts the cluster and the controller, runs the package's tests and
// stops everything. Call it from TestMain. Without SERIN_E2E=1 the tests are
// skipped (they need the cluster binaries that `make e2e` builds).
func Main(m *testing.M) { MainWith(m, nil) }

// MainWith is Main with a set-up step that runs once the cluster is up and
// before the controller starts: the place to write what the controller
// reads only at start-up, such as its argo-rollouts-config ConfigMap.
func MainWith(m *testing.M, setup func(*Env) error) {
	if os.Getenv("SERIN_E2E") != "1" {
		fmt.Println("skipping end-to-end tests: set SERIN_E2E=1 (make e2e does) to run them against a local cluster")
		os.Exit(0)
	}
	os.Exit(run(m, setup))
}

// CRDsEnv selects the argoproj.io CRDs a run installs: unset or "serin" for
// Serin's own (manifests/crds), "upstream" for Argo Rollouts' CRDs from
// ../shared/conformance/upstream-crds, as a user's Helm chart installed them.
const CRDsEnv = "SERIN_E2E_CRDS"

// UpstreamCRDs tells whether this run uses Argo Rollouts' CRDs.
func UpstreamCRDs() bool { return os.Getenv(CRDsEnv) == "upstream" }

// argoCRDDir is the directory of the CRDs to install instead of Serin's,
// or "" for Serin's. skip is set when upstream's were asked for but are
// absent (a checkout without ../shared).
func argoCRDDir(root string) (dir, skip string, err error) {
	switch os.Getenv(CRDsEnv) {
	case "", "serin":
		return "", "", nil
	case "upstream":
		dir = filepath.Join(root, "..", "shared", "conformance", "upstream-crds")
		if _, err := os.Stat(dir); err != nil {
			return "", fmt.Sprintf("skipping the run on Argo Rollouts' CRDs: %s is absent", dir), nil
		}
		return dir, "", nil
	}
	return "", "", fmt.Errorf("%s=%q: want serin or upstream", CRDsEnv, os.Getenv(CRDsEnv))
}

func run(m *testing.M, setup func(*Env) error) int {
	ctx := context.Background()
	root, err := cluster.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	crdDir, skip, err := argoCRDDir(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if skip != "" {
		fmt.Println(skip)
		return 0
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "serin-controller")); err != nil {
		fmt.Fprintln(os.Stderr, "bin/serin-controller is missing: run `make build` (make e2e does)")
		return 1
	}
	c, err := cluster.Start(ctx, cluster.Options{RepoRoot: root, Build: true, ArgoCRDDir: crdDir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the cluster:", err)
		return 1
	}
	defer c.Stop()
	rollouts, err := versioned.NewForConfig(c.RESTConfig())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env = &Env{Cluster: c, Kube: c.Client(), Rollouts: rollouts, root: root, logPath: filepath.Join(c.Dir(), "serin-controller.log")}
	// The controller's own namespace holds its leader-election Lease.
	if err := c.CreateNamespace(ctx, ControllerNamespace); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if setup != nil {
		if err := setup(env); err != nil {
			fmt.Fprintln(os.Stderr, "setting up the suite:", err)
			return 1
		}
	}
	if err := env.StartController(); err != nil {
		fmt.Fprintln(os.Stderr, "starting serin-controller:", err)
		return 1
	}
	code := m.Run()
	env.StopController()
	if err := env.use.check(root); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "RBAC:", err)
		return 1
	}
	return code
}

// StartController runs bin/serin-controller against the cluster, appending
// its log to the run's controller log.
func (e *Env) StartController() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.controller != nil {
		return fmt.Errorf("the controller is already running")
	}
	p, err := e.spawn(e.Cluster.Kubeconfig(), "")
	if err != nil {
		return err
	}
	e.controller = p
	return nil
}

// spawn starts a controller process with a kubeconfig. Call with e.mu held.
func (e *Env) spawn(kubeconfig, name string) (*process, error) {
	logFile, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if name != "" {
		name = " (" + name + ")"
	}
	fmt.Fprintf(logFile, "=== controller start %d%s at %s\n", e.restarts, name, time.Now().Format(time.RFC3339Nano))
	metrics, healthz := freePort(), freePort()
	cmd := exec.Command(filepath.Join(e.root, "bin", "serin-controller"),
		"--kubeconfig", kubeconfig,
		"--metricsport", fmt.Sprint(metrics),
		"--healthzPort", fmt.Sprint(healthz),
		"--loglevel", "debug",
		"--leader-elect=true",
		// Short leases so a killed controller's successor takes over quickly.
		"--leader-election-lease-duration", "4s",
		"--leader-election-renew-deadline", "3s",
		"--leader-election-retry-period", "500ms",
		// Plugins go into the run's directory, not the working directory,
		// and a hung plugin fails its call quickly.
		"--plugin-dir", filepath.Join(e.Cluster.Dir(), "plugin-bin"),
		"--plugin-call-timeout", PluginCallTimeout.String(),
	)
	cmd.Args = append(cmd.Args, e.ControllerArgs...)
	cmd.Env = append(append(os.Environ(), "POD_NAMESPACE="+ControllerNamespace), e.ControllerEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{}), metricsPort: metrics}
	e.restarts++
	go func() {
		cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// reviveController starts the package's controller again if it ended on
// its own (its Lease lost on a loaded machine, a crash), as its
// Deployment would restart it, so that one test's loss does not fail
// every later test.
func (e *Env) reviveController(t *testing.T) {
	e.mu.Lock()
	p := e.controller
	if p != nil {
		select {
		case <-p.done:
			e.controller = nil
		default:
			p = nil
		}
	}
	e.mu.Unlock()
	if p == nil {
		return
	}
	t.Logf("the package's controller had exited on its own (code %d; its log says why); starting a new one", p.cmd.ProcessState.ExitCode())
	if err := e.StartController(); err != nil {
		t.Fatalf("restarting the controller: %v", err)
	}
}

// StopController stops the controller the way Kubernetes would (SIGTERM,
// then SIGKILL after a grace period) and waits for it to exit.
func (e *Env) StopController() {
	p := e.take()
	if p == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// take hands over the running controller, after reading what it asked
// the API server for.
func (e *Env) take() *process {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.controller
	e.controller = nil
	if p != nil {
		e.use.scrape(p.metricsPort)
	}
	return p
}

// KillController ends the controller at once, as a crash or an evicted pod would.
func (e *Env) KillController() {
	if p := e.take(); p != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// controllerLog returns the controller log lines that mention a namespace.
func (e *Env) controllerLog(namespace string) string {
	f, err := os.Open(e.logPath)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, namespace) || strings.HasPrefix(line, "===") || strings.Contains(line, "panic") ||
			strings.Contains(line, "leader election lease") || strings.Contains(line, "Controller failed") {
			out = append(out, line)
		}
	}
	if len(out) > 300 {
		out = out[len(out)-300:]
	}
	return strings.Join(out, "\n")
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
