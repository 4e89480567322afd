package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Controller is a bin/serin-controller process the suite started, with
// its /metrics and pprof endpoints on free local ports.
type Controller struct {
	cmd         *exec.Cmd
	done        chan struct{}
	started     time.Time
	metricsPort int
	pprofAddr   string
}

// ControllerNamespace is the namespace the controller believes it runs in.
const ControllerNamespace = "argo-rollouts"

// StartController runs root/bin/serin-controller against kubeconfig with
// the controller's default rate limits and threads, no leader election
// (no Lease renewals in the request counts) and its log in logPath.
func StartController(root, kubeconfig, logPath string, extra []string) (*Controller, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	c := &Controller{done: make(chan struct{}), metricsPort: ports[0], pprofAddr: "127.0.0.1:" + strconv.Itoa(ports[2])}
	c.cmd = exec.Command(filepath.Join(root, "bin", "serin-controller"),
		"--kubeconfig", kubeconfig,
		"--metricsPort", strconv.Itoa(ports[0]), "--metrics-bind-address", "127.0.0.1",
		"--healthzPort", strconv.Itoa(ports[1]), "--healthz-bind-address", "127.0.0.1",
		"--enable-pprof-address", c.pprofAddr,
		"--leader-elect=false",
		"--loglevel", "info",
		"--plugin-dir", filepath.Join(filepath.Dir(logPath), "plugin-bin"),
	)
	c.cmd.Args = append(c.cmd.Args, extra...)
	c.cmd.Env = append(os.Environ(), "POD_NAMESPACE="+ControllerNamespace)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	go func() {
		_ = c.cmd.Wait()
		logFile.Close()
		close(c.done)
	}()
	return c, nil
}

// Started is when the process was started.
func (c *Controller) Started() time.Time { return c.started }

// Stop ends the process with SIGTERM (SIGKILL after 15 s) and waits for it.
func (c *Controller) Stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
}

var httpClient = &http.Client{}

// Scrape reads the controller's /metrics.
func (c *Controller) Scrape(ctx context.Context) (Snapshot, error) {
	select {
	case <-c.done:
		return Snapshot{}, fmt.Errorf("serin-controller exited (%v); see its log", c.cmd.ProcessState)
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/metrics", c.metricsPort), nil)
	if err != nil {
		return Snapshot{}, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return Snapshot{}, err
	}
	defer resp.Body.Close()
	return ParseMetrics(resp.Body)
}

// WaitReconciled polls /metrics until n Rollouts have been reconciled at
// least once and returns how long after the process start that was.
func (c *Controller) WaitReconciled(ctx context.Context, n int, every time.Duration) (time.Duration, error) {
	for {
		s, err := c.Scrape(ctx)
		if err == nil && s.Reconciled >= n {
			return time.Since(c.started), nil
		}
		select {
		case <-c.done:
			return 0, fmt.Errorf("serin-controller exited before reconciling %d Rollouts", n)
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for %d Rollouts to be reconciled (%d so far, last error %v): %w", n, s.Reconciled, err, ctx.Err())
		case <-time.After(every):
		}
	}
}

// PeakRSS is the process's peak resident set size in bytes since it
// started or since the last ResetPeakRSS (VmHWM in /proc/<pid>/status).
func (c *Controller) PeakRSS() (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return vmHWM(f)
}

// vmHWM reads the VmHWM line of a /proc/<pid>/status file, in bytes.
func vmHWM(r io.Reader) (float64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "VmHWM:" && fields[2] == "kB" {
			kb, err := strconv.ParseFloat(fields[1], 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", fields[1], err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmHWM line in the process status")
}

// ResetPeakRSS starts PeakRSS afresh from the current RSS (Linux's
// clear_refs value 5).
func (c *Controller) ResetPeakRSS() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", c.cmd.Process.Pid), []byte("5"), 0o200)
}

// CPUProfile records a CPU profile of d through pprof into path.
func (c *Controller) CPUProfile(ctx context.Context, d time.Duration, path string) error {
	return c.save(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", c.pprofAddr, int(d.Seconds())), path)
}

// Profile saves one of the runtime's named profiles (heap, goroutine) into path.
func (c *Controller) Profile(ctx context.Context, name, path string) error {
	return c.save(ctx, fmt.Sprintf("http://%s/debug/pprof/%s", c.pprofAddr, name), path)
}

func (c *Controller) save(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// CPUSeconds is the process's user and system CPU time so far, read from
// /proc/<pid>/stat: the figure process_cpu_seconds_total reports, without
// the cost of serving /metrics landing in it.
func (c *Controller) CPUSeconds() (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return statCPUSeconds(string(data))
}

// userHZ is the unit of /proc/<pid>/stat's times, 100 on Linux.
const userHZ = 100

// statCPUSeconds reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line; the command name may hold spaces and parentheses.
func statCPUSeconds(stat string) (float64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("malformed stat line %q", stat)
	}
	fields := strings.Fields(stat[end+1:])
	// fields[0] is field 3 (state); utime is field 14, stime field 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("stat line has %d fields after the name, want at least 13", len(fields))
	}
	utime, err := strconv.ParseFloat(fields[11], 64)
	if err != nil {
		return 0, fmt.Errorf("utime %q: %w", fields[11], err)
	}
	stime, err := strconv.ParseFloat(fields[12], 64)
	if err != nil {
		return 0, fmt.Errorf("stime %q: %w", fields[12], err)
	}
	return (utime + stime) / userHZ, nil
}
