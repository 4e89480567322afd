// Command serin-controller is Serin's controller: a drop-in replacement for
// the Argo Rollouts controller. It takes the same flags, serves the same
// /metrics and /healthz, holds the same leader election Lease and
// reconciles the same argoproj.io resources.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version string

// versionString is the version reported by --version, the
// argo_rollouts_controller_info metric and the user agent: the linked-in
// version, else the module version, else "devel".
func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func main() {
	os.Exit(mainExit(os.Args[1:], os.Stdout, os.Stderr))
}

// mainExit runs the controller and returns the process exit code.
func mainExit(args []string, stdout, stderr io.Writer) int {
	o := &options{}
	fs := newFlagSet(o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.rateLimitGiven = fs.Changed("qps") || fs.Changed("burst")
	if o.printVersion {
		fmt.Fprintln(stdout, versionString())
		return 0
	}
	if err := o.validate(); err != nil {
		fmt.Fprintln(stderr, "serin-controller:", err)
		return 2
	}
	if err := refuseUnsupportedFlags(fs); err != nil {
		fmt.Fprintln(stderr, "serin-controller:", err)
		return 2
	}
	if err := setupLogging(stderr, o.logLevel, o.logFormat, o.klogLevel); err != nil {
		fmt.Fprintln(stderr, "serin-controller:", err)
		return 2
	}
	defer klog.Flush()

	// The first SIGTERM or SIGINT starts an orderly shutdown: workers
	// finish, then the Lease is released. A second one kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()

	if err := run(ctx, o); err != nil {
		klog.Background().Error(err, "Controller failed")
		return 1
	}
	klog.Background().Info("Controller stopped")
	return 0
}
