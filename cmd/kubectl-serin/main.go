// Command kubectl-serin is the `kubectl serin` plugin: it explains why a
// Rollout did what it did, plans what a Rollout will do before it is
// applied, backtests an analysis over history, and reports a Rollout's
// status with exit codes a script can use. The logic lives in pkg/explain,
// pkg/simulate, pkg/backtest and pkg/rolloutstatus; this binary only wires
// the clients and the flags.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/serin-dev/serin/pkg/rolloutstatus"
)

// Exit codes shared by every command; status adds its own (see
// rolloutstatus).
const (
	exitOK          = 0
	exitError       = rolloutstatus.ExitError
	exitInvalidSpec = 2 // plan: the planner would stop the Rollout with InvalidSpec
	exitStuck       = 3 // plan: the simulation did not reach full promotion
	exitUnsupported = 7 // backtest: a metric's provider cannot be replayed
)

const exitCodes = `Exit codes:
  0  success (status: Healthy)
  1  error: bad flags or arguments, an object that cannot be read
  2  status: Degraded; plan: the Rollout would stop with InvalidSpec
  3  status: aborted; plan: the simulation does not reach full promotion
  4  status: Paused (without --watch)
  5  status: Progressing, or the spec not yet observed (without --watch)
  6  status --watch: --timeout passed first
  7  backtest: a metric's provider cannot answer for the past`

// exitError carries the exit code a command ends with.
type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

// withCode ends the command with code once err is printed; a nil err
// prints nothing.
func withCode(code int, err error) error { return codedError{code: code, err: err} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root, _ := newRoot(stdout, stderr)
	return execute(root, args, stderr)
}

// execute runs the command line on root and returns the exit code.
func execute(root *cobra.Command, args []string, stderr io.Writer) int {
	root.SetArgs(args)
	err := root.Execute()
	var ee codedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(stderr, "Error:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "Error:", err)
	return exitError
}

// options are the flags every command shares.
type options struct {
	config *genericclioptions.ConfigFlags
	output string
	out    io.Writer
	// connect builds the API clients; tests put fakes in its place.
	connect func() (*clients, error)
}

func newRoot(stdout, stderr io.Writer) (*cobra.Command, *options) {
	o := &options{config: genericclioptions.NewConfigFlags(true), out: stdout}
	o.connect = o.clients
	root := &cobra.Command{
		Use:   "kubectl-serin",
		Short: "Explain, plan, backtest and watch Serin (and Argo Rollouts) Rollouts",
		Long: "kubectl serin answers why a Rollout stopped (explain), what it will do before it is applied (plan),\n" +
			"whether an analysis would have caught past releases (backtest), and whether it is done (status).\n\n" + exitCodes,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	o.config.AddFlags(root.PersistentFlags())
	root.PersistentFlags().StringVarP(&o.output, "output", "o", "", "output format: json or yaml (default: text)")
	root.AddCommand(newPlan(o), newExplain(o), newStatus(o), newBacktest(o))
	return root, o
}
