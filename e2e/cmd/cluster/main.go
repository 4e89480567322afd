// Command cluster builds and runs Serin's local end-to-end cluster.
//
//	go run ./cmd/cluster build   # build the pinned binaries into <repo>/bin, install Prometheus
//	go run ./cmd/cluster up      # start; stays in the foreground until SIGINT/SIGTERM
//	go run ./cmd/cluster wait    # wait until a backgrounded `up` is ready
//	go run ./cmd/cluster down    # stop the cluster `up` started
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/serin-dev/serin/e2e/cluster"
)

func main() {
	keep := flag.Bool("keep", false, "up: keep bin/cluster (logs) after stopping")
	skipCRDs := flag.Bool("skip-project-crds", false, "up: do not install manifests/crds")
	timeout := flag.Duration("timeout", 2*time.Minute, "up, wait, down: how long to wait")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: cluster [-keep] [-skip-project-crds] [-timeout d] build|up|wait|down")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	root, err := cluster.FindRepoRoot()
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	switch flag.Arg(0) {
	case "build":
		if err = cluster.Build(ctx, root); err == nil {
			err = cluster.EnsurePrometheus(ctx, os.Stdout)
		}
	case "up":
		err = up(ctx, root, cluster.Options{KeepDir: *keep, SkipProjectCRDs: *skipCRDs, Timeout: *timeout})
	case "wait":
		err = wait(root, *timeout)
	case "down":
		err = down(root, *timeout)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cluster:", err)
	os.Exit(1)
}
