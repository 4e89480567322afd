package backtest

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText renders one line per start time, then the summary.
func WriteText(out io.Writer, r Report) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tVERDICT\tDECIDING VALUES\tMESSAGE")
	for _, s := range r.Starts {
		var values []string
		for _, v := range s.Deciding {
			values = append(values, fmt.Sprintf("%s=%s@%s(%s)", v.Metric, v.Value, v.At.UTC().Format("15:04:05"), v.Phase))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.At.UTC().Format(time.RFC3339), s.Phase, orDash(strings.Join(values, " ")), orDash(s.Message))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	sm := r.Summary
	_, err := fmt.Fprintf(out, "Summary: %d runs from %s to %s every %s: %s Successful, %s Failed, %s Inconclusive, %s Error, %d without a verdict\n",
		sm.Total, r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339), r.Step,
		share(sm.Successful, sm.Total), share(sm.Failed, sm.Total), share(sm.Inconclusive, sm.Total), share(sm.Error, sm.Total), sm.Running)
	return err
}

func share(n, total int) string {
	if total == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.0f%%)", n, 100*float64(n)/float64(total))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
