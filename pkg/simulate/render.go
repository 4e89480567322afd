package simulate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText renders the report as a table with its totals and notes.
func WriteText(out io.Writer, r Report) error {
	fmt.Fprintf(out, "Rollout %s/%s (%s)\n", r.Namespace, r.Rollout, r.Strategy)
	for _, msg := range r.InvalidSpec {
		fmt.Fprintf(out, "InvalidSpec: %s\n", msg)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tSTEP\tNEW\tSTABLE\tWEIGHT\tROUTERS\tGATES\tWAITING")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%d (%d ready)\t%d (%d ready)\t%s\t%s\t%s\t%s\n", offset(row.At), row.Step,
			row.DesiredReplicas, row.DesiredAvailable, row.StableReplicas, row.StableAvailable,
			weight(row.CanaryWeight), routerCell(row.Routers), dash(strings.Join(row.Gates, ", ")), dash(row.Waiting))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "End: %s\n", r.End)
	if r.Completed {
		fmt.Fprintf(out, "Minimum time to full promotion: %s\n", r.MinimumDuration.Round(time.Second))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(out, "Note: %s\n", n)
	}
	return nil
}

func offset(d time.Duration) string { return "+" + d.Round(time.Second).String() }

func weight(w *int32) string {
	if w == nil {
		return "-"
	}
	return fmt.Sprintf("%d%%", *w)
}

func routerCell(rs []RouterWeights) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.Object+" "+strings.Join(r.Weights, " "))
	}
	return dash(strings.Join(parts, "; "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
