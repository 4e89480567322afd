package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/serin-dev/serin/e2e/cluster"
)

// Files of a running `up`, under <repo>/bin:
//
//	cluster.pid        pid of the `up` process (written first)
//	cluster/kubeconfig admin kubeconfig
//	cluster/env        KUBECONFIG, PROMETHEUS_URL, EXPORTER_URL (written when ready)
func pidFile(root string) string  { return filepath.Join(cluster.BinDir(root), "cluster.pid") }
func stateDir(root string) string { return filepath.Join(cluster.BinDir(root), "cluster") }
func envFile(root string) string  { return filepath.Join(stateDir(root), "env") }

// up starts the cluster with opts (its paths and process options set here)
// and runs until SIGINT or SIGTERM.
func up(ctx context.Context, root string, opts cluster.Options) error {
	if pid, ok := running(root); ok {
		return fmt.Errorf("a cluster is already running (pid %d): run `cluster down` first", pid)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(cluster.BinDir(root), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile(root), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile(root))

	opts.RepoRoot, opts.Dir = root, stateDir(root)
	opts.Build, opts.NoSignalHandler = true, true
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Stop()
	env := fmt.Sprintf("KUBECONFIG=%s\nPROMETHEUS_URL=%s\nEXPORTER_URL=%s\n",
		c.Kubeconfig(), c.PrometheusURL(), c.Exporter().URL())
	if err := os.WriteFile(envFile(root), []byte(env), 0o644); err != nil {
		return err
	}
	fmt.Printf("export KUBECONFIG=%s\n", c.Kubeconfig())
	fmt.Printf("prometheus: %s  exporter: %s (POST /set, /add)\n", c.PrometheusURL(), c.Exporter().URL())
	<-ctx.Done()
	fmt.Println("stopping cluster")
	return nil
}

// wait blocks until the `up` process has written the env file. It fails if no
// `up` is running after a few seconds, or if it exits.
func wait(root string, timeout time.Duration) error {
	start := time.Now()
	for time.Since(start) < timeout {
		_, alive := running(root)
		if _, err := os.Stat(envFile(root)); err == nil && alive {
			fmt.Printf("export KUBECONFIG=%s\n", filepath.Join(stateDir(root), "kubeconfig"))
			return nil
		}
		if !alive && time.Since(start) > 5*time.Second {
			return errors.New("no `cluster up` is running")
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("cluster not ready after %s", timeout)
}

// down sends SIGTERM to the `up` process and waits until it and every
// component it started are gone, killing what remains after the timeout.
func down(root string, timeout time.Duration) error {
	pid, ok := running(root)
	if !ok {
		fmt.Println("no cluster is running")
		_ = os.Remove(pidFile(root))
		return nil
	}
	procs := append(children(pid), pid)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if len(alive(procs)) == 0 {
			fmt.Printf("cluster stopped (pid %d)\n", pid)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	left := alive(procs)
	for _, p := range left {
		_ = syscall.Kill(-p, syscall.SIGKILL)
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	_ = os.Remove(pidFile(root))
	return fmt.Errorf("killed processes still running after %s: %v", timeout, left)
}

// running returns the pid in the pid file and whether it is a live `up`.
func running(root string) (int, bool) {
	data, err := os.ReadFile(pidFile(root))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte("\x00up")) {
		return pid, false
	}
	return pid, true
}

// children lists the live processes whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state, ppid, ...
		i := bytes.LastIndexByte(stat, ')')
		if f := strings.Fields(string(stat[i+1:])); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, child)
		}
	}
	return kids
}

// alive returns the pids that still exist and are not zombies.
func alive(pids []int) []int {
	var out []int
	for _, p := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		if f := strings.Fields(string(stat[i+1:])); len(f) > 0 && f[0] == "Z" {
			continue
		}
		out = append(out, p)
	}
	return out
}
