// Command demo shows Serin doing its job on a local cluster: it starts a real
// control plane, runs the Serin controller against it, and narrates a canary
// release through its steps, a promotion, and a bad release that is aborted
// with every pod back on the stable version; it ends with kubectl serin
// explaining that abort and planning the next release.
//
//	make demo                 # builds what is missing first
//	go run ./cmd/demo -exit   # do not wait for Ctrl-C at the end
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/serin-dev/serin/e2e/cluster"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
)

func main() {
	exit := flag.Bool("exit", false, "stop the cluster when the story ends instead of waiting for Ctrl-C")
	flag.Parse()
	if err := run(*exit); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(exitAtEnd bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := cluster.FindRepoRoot()
	if err != nil {
		return err
	}
	controllerBin, serinBin, err := binaries(root)
	if err != nil {
		return err
	}

	say("Starting a local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,")
	say("kube-scheduler and kwok (a fake kubelet), all built from Go modules, plus Prometheus.")
	c, err := cluster.Start(ctx, cluster.Options{RepoRoot: root, Build: true, NoSignalHandler: true, Dir: filepath.Join(root, "bin", "demo-cluster")})
	if err != nil {
		return err
	}
	defer c.Stop()

	say("Installing Serin: its CRDs are applied; the controller runs as %s.", rel(root, controllerBin))
	say("Prometheus (%s) scrapes the guestbook canary's success rate, which this demo sets.", c.PrometheusURL())
	if err := c.CreateNamespace(ctx, "argo-rollouts"); err != nil {
		return err
	}
	logPath := filepath.Join(c.Dir(), "serin-controller.log")
	controller, err := startController(controllerBin, c.Kubeconfig(), logPath)
	if err != nil {
		return err
	}
	defer func() {
		controller.Process.Signal(syscall.SIGTERM)
		controller.Wait()
	}()

	rollouts, err := versioned.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	s := &story{ctx: ctx, kube: c.Client(), rollouts: rollouts, dynamic: c.Dynamic(), ns: "demo", prometheus: c.PrometheusURL(),
		serinBin: serinBin, kubeconfig: c.Kubeconfig(),
		setSuccessRate: func(v float64) error {
			c.Exporter().Set("success_rate", map[string]string{"service": "guestbook-canary"}, v)
			return c.WaitForPrometheusValue(ctx, `success_rate{service="guestbook-canary"}`, v)
		}}
	if err := s.tell(); err != nil {
		return err
	}

	sayHowToLook(root, c.Kubeconfig(), logPath)
	if exitAtEnd {
		say("Stopping the cluster (-exit).")
		return nil
	}
	say("Press Ctrl-C to stop the cluster and Serin.")
	<-ctx.Done()
	say("Stopping.")
	return nil
}

// binaries returns the paths of the controller and the kubectl serin
// plugin that make build put in bin/.
func binaries(root string) (controller, serin string, err error) {
	controller = filepath.Join(root, "bin", "serin-controller")
	serin = filepath.Join(root, "bin", "kubectl-serin")
	for _, bin := range []string{controller, serin} {
		if _, err := os.Stat(bin); err != nil {
			return "", "", fmt.Errorf("%s is missing: run `make demo`, which builds it", bin)
		}
	}
	return controller, serin, nil
}

// sayHowToLook tells how to reach the cluster the demo leaves running.
func sayHowToLook(root, kubeconfig, logPath string) {
	kubectl := rel(root, filepath.Join(root, "bin", "kubectl"))
	say("")
	say("The cluster is still running. Poke it from another terminal:")
	say("  export KUBECONFIG=%s", kubeconfig)
	say("  %s get rollout -n demo -o wide", kubectl)
	say("  %s get replicasets,services -n demo --show-labels", kubectl)
	say("  %s explain rollout guestbook -n demo   # or: kubectl serin ..., with bin/ on PATH", rel(root, filepath.Join(root, "bin", "kubectl-serin")))
	say("Serin's log: %s", logPath)
}

func startController(bin, kubeconfig, logPath string) (*exec.Cmd, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--kubeconfig", kubeconfig, "--leader-elect=false",
		"--metricsport", fmt.Sprint(freePort()), "--healthzPort", fmt.Sprint(freePort()))
	cmd.Env = append(os.Environ(), "POD_NAMESPACE=argo-rollouts")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd, cmd.Start()
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func say(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}
