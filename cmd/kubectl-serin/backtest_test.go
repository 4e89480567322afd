package main

import (
	"strings"
	"testing"
	"time"
)

// backtest refuses a provider that cannot answer for the past with exit 7,
// and bad flags with exit 1, before measuring anything.
func TestBacktestRefusals(t *testing.T) {
	code, _, errOut := runWith(t, nil, "backtest", "-f", "testdata/web-template.yaml", "--from", "-2h")
	if code != exitUnsupported || !strings.Contains(errOut, "not supported for provider web") {
		t.Fatalf("web: exit %d, %s", code, errOut)
	}
	for _, args := range [][]string{
		{"backtest", "-f", "testdata/web-template.yaml"},
		{"backtest", "-f", "testdata/web-template.yaml", "--from", "yesterday"},
		{"backtest", "-f", "testdata/web-template.yaml", "--from", "-1h", "--arg", "novalue"},
		{"backtest", "-f", "testdata/invalid-rollout.yaml", "--from", "-1h"},
	} {
		if code, _, errOut := runWith(t, nil, args...); code != exitError || errOut == "" {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now":                  now,
		"-90m":                 now.Add(-90 * time.Minute),
		"2026-02-28T10:00:00Z": time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC),
	} {
		if got, err := parseTime(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
