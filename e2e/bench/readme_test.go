package bench

import (
	"strings"
	"testing"
	"time"
)

func TestReplaceTableKeepsTheRestOfTheReadme(t *testing.T) {
	r := &Report{Started: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), Command: "make bench", Machine: "m"}
	r.Add("wave N=3", "Rollouts all Healthy", 2.5, "s")
	doc := "# Serin\n\n" + ReadmeBegin + "\nold table\n" + ReadmeEnd + "\n\nafter\n"
	got, err := ReplaceTable(doc, r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "old table") || !strings.Contains(got, "| wave N=3 | Rollouts all Healthy | 2.5 | s |  |") {
		t.Errorf("table not replaced:\n%s", got)
	}
	if !strings.HasPrefix(got, "# Serin\n\n"+ReadmeBegin+"\n") || !strings.HasSuffix(got, ReadmeEnd+"\n\nafter\n") {
		t.Errorf("text around the markers changed:\n%s", got)
	}
}

func TestSeveralRunsMakeOneTable(t *testing.T) {
	day := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	a := &Report{Started: day, Command: "make bench BENCH_FLAGS='--n 1000'", Machine: "m"}
	a.Add("wave N=1000", "Rollouts all Healthy", 9, "s")
	b := &Report{Started: day, Command: "make bench BENCH_FLAGS='--scenarios coldstart --n 10000'", Machine: "m", Errors: []string{"idle: stopped"}}
	b.AddTarget("cold start N=10000", "writes", 0, "requests", 0)
	got, err := ReplaceTable(ReadmeBegin+"\n"+ReadmeEnd+"\n", a, b)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Index(got, "| wave N=1000 |") >= 0 && strings.Index(got, "| wave N=1000 |") < strings.Index(got, "| cold start N=10000 | writes | 0 | requests | ≤ 0 met |")
	if !rows || strings.Count(got, "| Scenario |") != 1 {
		t.Errorf("want one table with a's rows before b's:\n%s", got)
	}
	if !strings.Contains(got, "with `make bench BENCH_FLAGS='--n 1000'`") || !strings.Contains(got, "--scenarios coldstart --n 10000'`") ||
		!strings.Contains(got, "Not measured: idle: stopped") {
		t.Errorf("want each run's command and errors:\n%s", got)
	}
}

func TestReplaceTableWantsMarkers(t *testing.T) {
	if _, err := ReplaceTable("# no markers\n", &Report{}); err == nil {
		t.Fatal("want an error without markers")
	}
}

func TestValidateRefusesBadOptions(t *testing.T) {
	good := Options{Scenarios: []string{"wave", "idle"}, N: 10, IdleWindow: time.Minute, WaveProfile: time.Minute}
	if err := good.Validate(); err != nil {
		t.Fatalf("good options refused: %v", err)
	}
	for name, o := range map[string]Options{
		"N=0":              {Scenarios: []string{"wave"}, N: 0},
		"unknown scenario": {Scenarios: []string{"warp"}, N: 1},
		"no scenario":      {N: 1},
		"short idle":       {Scenarios: []string{"idle"}, N: 1, IdleWindow: time.Second},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
