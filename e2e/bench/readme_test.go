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
