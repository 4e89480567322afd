package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one component of the cluster, running in its own process group.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed when the process has exited
	err     error         // exit status, valid once done is closed
}

// spawnRequest asks the spawner goroutine to start a command.
type spawnRequest struct {
	cmd   *exec.Cmd
	reply chan error
}

var (
	spawnOnce sync.Once
	spawnCh   chan spawnRequest
)

// startCmd starts cmd from a goroutine locked to its OS thread for the life of
// the process. Pdeathsig fires when the thread that forked the child exits,
// not the process; a thread that never exits makes the child outlive us only
// if we outlive it.
func startCmd(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for req := range spawnCh {
				req.reply <- req.cmd.Start()
			}
		}()
	})
	reply := make(chan error, 1)
	spawnCh <- spawnRequest{cmd, reply}
	return <-reply
}

// startProcess runs bin with args in its own process group, with stdout and
// stderr appended to <logDir>/<name>.log.
func startProcess(name, logDir, bin string, args ...string) (*process, error) {
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "+ %s %s\n", bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.Dir = logDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startCmd(cmd); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: f, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id, which is also its process group id.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited, with its status.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	pgid := p.Pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Anything the component left behind in its group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// tail returns the last n lines of the process log.
func (p *process) tail(n int) string {
	return tailFile(p.logPath, n)
}

func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// failure wraps err with the tail of the component's log.
func (p *process) failure(err error) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: %v", p.name, err)
	if done, werr := p.exited(); done {
		fmt.Fprintf(&b, " (exited: %v)", werr)
	}
	fmt.Fprintf(&b, "\n--- last lines of %s.log (Options.KeepDir keeps the logs) ---\n%s\n---", p.name, p.tail(40))
	return errors.New(b.String())
}

// The signal handler stops every running cluster on SIGINT or SIGTERM and
// then lets the signal take its default course.
var (
	liveMu     sync.Mutex
	live       = map[*Cluster]struct{}{}
	signalOnce sync.Once
)

func register(c *Cluster, handleSignals bool) {
	liveMu.Lock()
	live[c] = struct{}{}
	liveMu.Unlock()
	if !handleSignals {
		return
	}
	signalOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			sig := <-ch
			fmt.Fprintf(os.Stderr, "serin e2e cluster: %v: stopping clusters\n", sig)
			liveMu.Lock()
			cs := make([]*Cluster, 0, len(live))
			for c := range live {
				cs = append(cs, c)
			}
			liveMu.Unlock()
			for _, c := range cs {
				c.Stop()
			}
			signal.Reset(sig)
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
			time.Sleep(time.Second)
			os.Exit(1)
		}()
	})
}

func unregister(c *Cluster) {
	liveMu.Lock()
	delete(live, c)
	liveMu.Unlock()
}
