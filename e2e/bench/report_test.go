package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReportRoundTripsAndJudgesTargets(t *testing.T) {
	r := &Report{Started: time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC), Command: "make bench", Machine: "2 cores"}
	r.AddTarget("wave", "ratio to floor", 1.5234, "×", 1.2)
	r.AddTarget("idle", "requests beyond watches", 0, "requests", 0)
	r.Add("wave", "peak RSS", 77, "MiB")
	path := filepath.Join(t.TempDir(), "r.json")
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	if err := WriteMarkdown(&md, got); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| wave | ratio to floor | 1.523 | × | ≤ 1.2 missed |",
		"| idle | requests beyond watches | 0 | requests | ≤ 0 met |",
		"| wave | peak RSS | 77 | MiB |  |",
		"Measured 2026-11-29 on 2 cores with `make bench`.",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	var table strings.Builder
	if err := got.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "≤ 1.2 missed") {
		t.Errorf("table lacks the verdict:\n%s", table.String())
	}
}

func TestLoadRejectsMalformedJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil {
		t.Error("want an error for malformed JSON")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("want an error for a missing file")
	}
}
