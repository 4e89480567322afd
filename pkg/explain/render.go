package explain

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText renders the report for a person, times in UTC.
func WriteText(out io.Writer, r Report) error {
	p := &printer{out: out}
	p.line("Rollout %s/%s (%s): %s", r.Namespace, r.Rollout, r.Strategy, phaseLine(r))
	for _, rel := range r.Releases {
		p.release(rel)
	}
	if d := r.Decision; d != nil {
		p.line("")
		p.line("Why it stopped (%s): decided by %s", d.Kind, d.By)
		if d.Metric != "" {
			p.line("  metric %s: %s", d.Metric, d.Rule)
		}
		if m := d.Measurement; m != nil {
			p.line("  deciding measurement: value %s, verdict %s%s%s", m.Value, m.Verdict, at(m.At), suffix(m.Message))
		}
	}
	if len(r.Writers) > 0 {
		p.line("")
		p.line("Writers of the Rollout (managed fields; a promote, abort or pause by hand shows as a status write):")
		for _, w := range r.Writers {
			p.line("  %s %s %s%s", stamp(w.At), w.Manager, w.Operation, suffix(w.Subresource))
		}
	}
	p.line("")
	p.line("Next: %s", r.Next.Next)
	p.line("ETA: %s", eta(r.Next))
	return p.err
}

type printer struct {
	out io.Writer
	err error
}

func (p *printer) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.out, format+"\n", args...)
	}
}

func (p *printer) release(rel Release) {
	p.line("")
	p.line("Release revision %s (%s, %s) %s: %s", rel.Revision, rel.Hash, strings.Join(rel.Images, ", "), rel.Role, rel.Outcome)
	p.line("  started %s, ended %s; %d replicas, %d available", stamp(deref(rel.Started)), stamp(deref(rel.Ended)), rel.Replicas, rel.Available)
	for _, s := range rel.Steps {
		replicas := "?"
		if s.CanaryReplicas != nil {
			replicas = fmt.Sprint(*s.CanaryReplicas)
		}
		p.line("  step %d %-26s %-13s weight %3d%%  replicas %-3s %s -> %s", s.Number, s.Description, s.State, s.Weight, replicas,
			stamp(deref(s.Started)), stamp(deref(s.Ended)))
	}
	for _, a := range rel.Analyses {
		step := ""
		if a.Step != nil {
			step = fmt.Sprintf(" at step %d", *a.Step)
		}
		p.line("  analysis %s (%s%s): %s%s", a.Name, a.Type, step, a.Phase, suffix(a.Message))
		for _, m := range a.Metrics {
			p.line("    metric %s: %s (%d measured, %d failed, %d inconclusive, %d errors)", m.Name, m.Phase, m.Count, m.Failed, m.Inconclusive, m.Error)
			for _, x := range m.Measurements {
				p.line("      %s value %s -> %s%s", stamp(deref(x.At)), x.Value, x.Verdict, suffix(x.Message))
			}
		}
	}
	for _, x := range rel.Experiments {
		p.line("  experiment %s: %s%s, started %s", x.Name, x.Phase, suffix(x.Message), stamp(deref(x.Started)))
	}
	for _, e := range rel.Events {
		p.line("  event %s %s %s: %s", stamp(e.At), e.Object, e.Reason, e.Message)
	}
}

func phaseLine(r Report) string {
	if r.Message == "" {
		return r.Phase
	}
	return r.Phase + " (" + r.Message + ")"
}

func eta(n Next) string {
	switch {
	case n.Complete:
		return "complete"
	case n.Aborted:
		return "none: aborted"
	case n.WaitingForPromote:
		return fmt.Sprintf("waiting for promote; then at least %s", n.Remaining)
	case n.ETA != nil:
		return fmt.Sprintf("%s (in %s)", stamp(*n.ETA), n.Remaining)
	}
	return "unknown"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func at(t *time.Time) string {
	if t == nil {
		return ""
	}
	return " at " + stamp(*t)
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
