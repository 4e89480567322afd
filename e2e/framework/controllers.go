package framework

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Controller is a controller process a test started itself, besides or
// instead of the package's own, whose API requests go through its own
// APIProxy.
type Controller struct {
	Name   string
	Proxy  *APIProxy
	env    *Env
	proc   *process
	once   sync.Once
	frozen atomic.Bool
}

// StartProxiedController starts a controller process behind a new APIProxy.
// With killAfter > 0 the process is SIGKILLed as soon as that many of its
// object writes to the test's namespace have been answered (the proxy
// holds any further write meanwhile). The process and its proxy end with
// the test at the latest.
func (f *T) StartProxiedController(name string, killAfter int) *Controller {
	f.Helper()
	proxy, err := f.Env.NewAPIProxy(f.TempDir(), killAfter, f.Namespace)
	if err != nil {
		f.Fatalf("starting the API proxy: %v", err)
	}
	f.Env.mu.Lock()
	proc, err := f.Env.spawn(proxy.kubeconfig, name)
	f.Env.mu.Unlock()
	if err != nil {
		proxy.Close()
		f.Fatalf("starting controller %s: %v", name, err)
	}
	c := &Controller{Name: name, Proxy: proxy, env: f.Env, proc: proc}
	go func() {
		select {
		case <-proxy.Tripped():
			c.Kill()
		case <-proc.done:
		}
	}()
	f.Cleanup(func() {
		c.Kill()
		proxy.Close()
	})
	return c
}

// Exited is closed once the process has ended.
func (c *Controller) Exited() <-chan struct{} { return c.proc.done }

// ExitCode is the ended process's exit code, -1 when a signal ended it.
func (c *Controller) ExitCode() int {
	<-c.proc.done
	return c.proc.cmd.ProcessState.ExitCode()
}

// Kill ends the process at once (SIGKILL), as a crash would, and waits for it.
func (c *Controller) Kill() {
	c.end(func() {
		syscall.Kill(-c.proc.cmd.Process.Pid, syscall.SIGKILL)
		<-c.proc.done
	})
}

// Freeze stops the process (SIGSTOP) without ending it, as a long GC
// pause, a starved node or a suspended VM would: it neither renews its
// Lease nor notices time passing until Thaw.
func (c *Controller) Freeze() {
	c.frozen.Store(true)
	syscall.Kill(-c.proc.cmd.Process.Pid, syscall.SIGSTOP)
}

// Thaw lets a frozen process run again (SIGCONT).
func (c *Controller) Thaw() {
	syscall.Kill(-c.proc.cmd.Process.Pid, syscall.SIGCONT)
	c.frozen.Store(false)
}

// Stop ends the process as Kubernetes would (SIGTERM, SIGKILL after a
// grace period) and waits for it.
func (c *Controller) Stop() {
	c.end(func() {
		c.proc.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.proc.done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-c.proc.cmd.Process.Pid, syscall.SIGKILL)
			<-c.proc.done
		}
	})
}

// end reads what the process asked the API server for, then ends it, once.
func (c *Controller) end(stop func()) {
	c.once.Do(func() {
		select {
		case <-c.proc.done:
		default:
			if !c.frozen.Load() { // a frozen process serves no metrics
				c.env.use.scrape(c.proc.metricsPort)
			}
			stop()
		}
	})
}

// ForgetLeader deletes the leader-election Lease, as its expiry would, so
// that the next controller leads at once instead of waiting out the lease
// of a process the test knows is dead. Call it only with no controller
// running.
func (f *T) ForgetLeader() {
	f.Helper()
	err := f.Env.Kube.CoordinationV1().Leases(ControllerNamespace).Delete(f.ctx, LeaseName, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		f.Fatalf("deleting the Lease: %v", err)
	}
}

// LeaseName is the controller's leader-election Lease (no instance ID).
const LeaseName = "argo-rollouts-controller-lock"
