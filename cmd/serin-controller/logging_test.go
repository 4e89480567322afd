package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

func TestParseLogLevel(t *testing.T) {
	for level, want := range map[string]struct {
		v          int
		errorsOnly bool
	}{
		"debug": {4, false}, "DEBUG": {4, false}, "trace": {6, false}, "info": {0, false},
		"warn": {0, true}, "warning": {0, true}, "error": {0, true}, "fatal": {0, true},
	} {
		v, errorsOnly, err := parseLogLevel(level)
		if err != nil || v != want.v || errorsOnly != want.errorsOnly {
			t.Errorf("%s: v=%d errorsOnly=%v err=%v; want %+v", level, v, errorsOnly, err, want)
		}
	}
	if _, _, err := parseLogLevel("chatty"); err == nil {
		t.Error("unknown level accepted")
	}
}

// logLines sets up logging into a buffer, logs one line at each level of
// interest and returns what came out. It restores klog afterwards.
func logLines(t *testing.T, level, format string, klogLevel int) string {
	t.Helper()
	var buf bytes.Buffer
	if err := setupLogging(&buf, level, format, klogLevel); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Back to klog's own output at verbosity 0 for the other tests.
		klog.ClearLogger()
		flags := flag.NewFlagSet("reset", flag.ContinueOnError)
		klog.InitFlags(flags)
		_ = flags.Set("v", "0")
	})
	logger := klog.Background()
	logger.Info("info line", "rollout", "shop/web")
	logger.V(2).Info("v2 line")
	logger.V(4).Info("v4 line")
	klog.V(4).InfoS("klog v4 line")
	logger.Error(errors.New("boom"), "error line")
	klog.Flush()
	return buf.String()
}

func TestLoggingLevels(t *testing.T) {
	for _, c := range []struct {
		level     string
		klogLevel int
		want      []string
		notWant   []string
	}{
		{"info", 0, []string{"info line", "error line"}, []string{"v2 line", "v4 line"}},
		{"info", 2, []string{"info line", "v2 line"}, []string{"v4 line"}},
		{"debug", 0, []string{"info line", "v2 line", "v4 line", "klog v4 line"}, nil},
		{"error", 0, []string{"error line"}, []string{"info line", "v2 line"}},
	} {
		out := logLines(t, c.level, "text", c.klogLevel)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("--loglevel %s --kloglevel %d: missing %q in\n%s", c.level, c.klogLevel, w, out)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(out, w) {
				t.Errorf("--loglevel %s --kloglevel %d: unexpected %q in\n%s", c.level, c.klogLevel, w, out)
			}
		}
	}
}

func TestLoggingJSON(t *testing.T) {
	out := logLines(t, "debug", "json", 0)
	levels := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		levels[entry["level"].(string)] = true
		if entry["msg"] == "info line" && entry["rollout"] != "shop/web" {
			t.Errorf("key/value pair lost: %v", entry)
		}
	}
	for _, l := range []string{"info", "debug", "error"} {
		if !levels[l] {
			t.Errorf("no %q level in %v", l, levels)
		}
	}
}
