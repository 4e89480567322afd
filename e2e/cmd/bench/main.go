// Command bench runs Serin's benchmark suite (e2e/bench) on a local
// cluster and prints the figures; `bench readme` writes the last run's
// table into the README.
//
//	go run ./cmd/bench --scenarios wave,idle --n 300 --idle 10m
//	go run ./cmd/bench readme
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/serin-dev/serin/e2e/bench"
	"github.com/serin-dev/serin/e2e/cluster"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	root, err := cluster.FindRepoRoot()
	if err != nil {
		return err
	}
	out := filepath.Join(root, "bin", "bench")
	if len(args) > 0 && args[0] == "readme" {
		return readme(args[1:], root, out)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	scenarios := fs.String("scenarios", strings.Join(bench.Scenarios, ","), "Comma-separated scenarios to run: "+strings.Join(bench.Scenarios, ", "))
	n := fs.Int("n", 300, "Rollouts (and Deployments for the wave's floor) per scenario")
	reactionN := fs.Int("reaction-n", 50, "Istio canaries of the reaction scenario")
	fanoutN := fs.Int("fanout-n", 1000, "Concurrent AnalysisRuns of the fan-out scenario")
	waveProfile := fs.Duration("wave-profile", time.Minute, "Length of the CPU profile taken from the start of the Rollouts' wave")
	coldRevisions := fs.Int("coldstart-revisions", 3, "ReplicaSets per Rollout when the cold start begins (the Rollouts are released that many times less one first)")
	idle := fs.Duration("idle", 10*time.Minute, "Length of the idle window")
	outDir := fs.String("out", out, "Directory for bench.json, profiles and the controller's log")
	ctrlArgs := fs.String("controller-args", "", "Extra space-separated arguments for serin-controller")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := bench.Options{
		Scenarios:      strings.Split(*scenarios, ","),
		N:              *n,
		ReactionN:      *reactionN,
		FanoutN:        *fanoutN,
		WaveProfile:    *waveProfile,
		IdleWindow:     *idle,
		ColdRevisions:  *coldRevisions,
		OutDir:         *outDir,
		Command:        command(args),
		ControllerArgs: strings.Fields(*ctrlArgs),
		Out:            os.Stdout,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := bench.Run(ctx, opts)
	if report != nil {
		fmt.Println()
		_ = report.WriteTable(os.Stdout)
		fmt.Printf("\nwritten to %s\n", filepath.Join(*outDir, "bench.json"))
	}
	return err
}

// readme writes the table of a saved run into the README.
func readme(args []string, root, out string) error {
	fs := flag.NewFlagSet("bench readme", flag.ContinueOnError)
	in := fs.String("in", filepath.Join(out, "bench.json"), "Comma-separated reports to read, in the order their figures go in the table")
	doc := fs.String("readme", filepath.Join(root, "README.md"), "README to update")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var runs []*bench.Report
	for _, path := range strings.Split(*in, ",") {
		r, err := bench.Load(path)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	return bench.UpdateReadme(*doc, runs...)
}

// command is how to run the same benchmark again.
func command(args []string) string {
	if len(args) == 0 {
		return "make bench"
	}
	return "make bench BENCH_FLAGS='" + strings.Join(args, " ") + "'"
}
