package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Figure is one measured value of a scenario.
type Figure struct {
	Scenario string  `json:"scenario"`
	Name     string  `json:"figure"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	// Target is the target for this figure in words ("≤ 1.2"), and
	// Met whether the value reaches it; both empty for figures without one.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
}

// Report is one run of the suite.
type Report struct {
	Started  time.Time `json:"started"`
	Command  string    `json:"command"`
	Machine  string    `json:"machine"`
	Figures  []Figure  `json:"figures"`
	Profiles []string  `json:"profiles,omitempty"`
	// Errors are the scenarios that failed, with why.
	Errors []string `json:"errors,omitempty"`
}

// Add records a figure without a target.
func (r *Report) Add(scenario, name string, value float64, unit string) {
	r.Figures = append(r.Figures, Figure{Scenario: scenario, Name: name, Value: value, Unit: unit})
}

// AddTarget records a figure whose target is value ≤ limit.
func (r *Report) AddTarget(scenario, name string, value float64, unit string, limit float64) {
	met := value <= limit
	r.Figures = append(r.Figures, Figure{Scenario: scenario, Name: name, Value: value, Unit: unit,
		Target: "≤ " + format(limit), Met: &met})
}

// format prints a value with at most three decimals and no trailing zeros.
func format(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

func verdict(f Figure) string {
	switch {
	case f.Met == nil:
		return ""
	case *f.Met:
		return "met"
	}
	return "missed"
}

// WriteTable prints the figures as an aligned table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tFIGURE\tVALUE\tUNIT\tTARGET\t")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", f.Scenario, f.Name, format(f.Value), f.Unit, strings.TrimSpace(f.Target+" "+verdict(f)))
	}
	return tw.Flush()
}

// WriteMarkdown prints the figures of one or more runs as one Markdown
// table, for the README, then what was not measured and how each run was
// made.
func WriteMarkdown(w io.Writer, runs ...*Report) error {
	var b strings.Builder
	b.WriteString("| Scenario | Figure | Value | Unit | Target |\n|---|---|---:|---|---|\n")
	for _, r := range runs {
		for _, f := range r.Figures {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", f.Scenario, f.Name, format(f.Value), f.Unit, strings.TrimSpace(f.Target+" "+verdict(f)))
		}
	}
	b.WriteString("\n")
	for _, r := range runs {
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "Not measured: %s\n\n", e)
		}
	}
	for i, r := range runs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Measured %s on %s with `%s`.\n", r.Started.UTC().Format("2006-01-02"), r.Machine, r.Command)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Save writes the report as indented JSON.
func (r *Report) Save(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// Load reads a report Save wrote.
func Load(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
