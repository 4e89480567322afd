package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/backtest"
)

type backtestFlags struct {
	file, from, to, address string
	args                    []string
	step                    time.Duration
}

func newBacktest(o *options) *cobra.Command {
	f := &backtestFlags{}
	cmd := &cobra.Command{
		Use:   "backtest -f analysis-template.yaml --arg NAME=VALUE ... --from TIME --to TIME [--step 1h]",
		Short: "Replay an analysis over history: what would it have decided for runs started at each step?",
		Long: "For each start time from --from to --to, every --step, run the template's analysis as Serin's controller\n" +
			"would (interval, count, initialDelay, failureLimit, inconclusiveLimit, consecutiveErrorLimit, ...),\n" +
			"each measurement queried as of the time it would have been taken, and print the verdict and the values\n" +
			"that decided it, then how often it would have been Successful, Failed, Inconclusive or Error.\n" +
			"Prometheus metrics only: Prometheus evaluates a query at any past time. Web metrics call a URL that\n" +
			"answers for now, and Serin's Datadog provider always asks for the last interval, so both are refused\n" +
			"(exit 7). TIME is RFC 3339 (2026-03-01T10:00:00Z), \"now\", or now minus a duration (-24h).\n\n" + exitCodes,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkOutput(); err != nil {
				return err
			}
			in, err := f.input(time.Now().UTC())
			if err != nil {
				return err
			}
			r, err := backtest.Run(cmd.Context(), in)
			if err != nil {
				var unsupported *backtest.UnsupportedError
				if errors.As(err, &unsupported) {
					return withCode(exitUnsupported, err)
				}
				return err
			}
			return o.print(r, func(w io.Writer) error { return backtest.WriteText(w, r) })
		},
	}
	cmd.Flags().StringVarP(&f.file, "filename", "f", "", "file with the AnalysisTemplate(s) or ClusterAnalysisTemplate(s)")
	cmd.Flags().StringArrayVar(&f.args, "arg", nil, "an argument of the template, NAME=VALUE (repeat)")
	cmd.Flags().StringVar(&f.from, "from", "", "first start time")
	cmd.Flags().StringVar(&f.to, "to", "now", "last start time")
	cmd.Flags().DurationVar(&f.step, "step", time.Hour, "time between two start times")
	cmd.Flags().StringVar(&f.address, "prometheus-address", os.Getenv("ARGO_ROLLOUTS_PROMETHEUS_ADDRESS"),
		"Prometheus address for metrics that name none (default $ARGO_ROLLOUTS_PROMETHEUS_ADDRESS)")
	return cmd
}

func (f *backtestFlags) input(now time.Time) (backtest.Input, error) {
	in := backtest.Input{Step: f.step, Now: now, Measure: backtest.PrometheusMeasurer(f.address)}
	var err error
	if f.file == "" || f.from == "" {
		return in, fmt.Errorf("-f and --from are required")
	}
	if in.From, err = parseTime(f.from, now); err != nil {
		return in, fmt.Errorf("--from: %w", err)
	}
	if in.To, err = parseTime(f.to, now); err != nil {
		return in, fmt.Errorf("--to: %w", err)
	}
	m, err := readManifests(f.file)
	if err != nil {
		return in, err
	}
	for _, t := range m.AnalysisTemplates {
		in.Templates.Templates = append(in.Templates.Templates, t)
	}
	for _, t := range m.ClusterAnalysisTemplates {
		in.Templates.ClusterTemplates = append(in.Templates.ClusterTemplates, t)
	}
	sort.Slice(in.Templates.Templates, func(i, j int) bool { return in.Templates.Templates[i].Name < in.Templates.Templates[j].Name })
	sort.Slice(in.Templates.ClusterTemplates, func(i, j int) bool {
		return in.Templates.ClusterTemplates[i].Name < in.Templates.ClusterTemplates[j].Name
	})
	if len(in.Templates.Templates)+len(in.Templates.ClusterTemplates) == 0 {
		return in, fmt.Errorf("%s has no AnalysisTemplate or ClusterAnalysisTemplate", f.file)
	}
	for _, a := range f.args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return in, fmt.Errorf("--arg %q: want NAME=VALUE", a)
		}
		in.Args = append(in.Args, v1alpha1.Argument{Name: name, Value: &value})
	}
	return in, nil
}

// parseTime reads RFC 3339, "now", or now minus a duration ("-24h").
func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	if strings.HasPrefix(s, "-") {
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(-d), nil
	}
	return time.Parse(time.RFC3339, s)
}
