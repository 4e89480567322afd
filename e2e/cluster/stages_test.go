package cluster

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestKwokStages checks the generated stage file without a cluster: the
// shipped stages plus the broken-pod and failed-job ones, with the jq
// selectors and delays in place.
func TestKwokStages(t *testing.T) {
	root, err := FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	s, err := inspectTool(root, toolNamed("kwok"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, err := moduleDir(ctx, s.module, s.version)
	if err != nil {
		t.Skipf("kwok module not available: %v", err)
	}
	doc, err := kwokStages(dir)
	if err != nil {
		t.Fatal(err)
	}
	stages, err := parseStages(doc)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]stage{}
	for _, st := range stages {
		names[stageName(st)] = st
	}
	for _, want := range []string{"node-initialize", "pod-ready", "pod-complete", "pod-delete", "pod-broken", "pod-job-failed"} {
		if names[want] == nil {
			t.Errorf("stage %s missing (have %v)", want, keys(names))
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	checkLast := func(name, key, op string) {
		m := lastMatch(names[name])
		if m["key"] != key || m["operator"] != op {
			t.Errorf("%s: last selector %v, want %s %s", name, m, key, op)
		}
	}
	checkLast("pod-ready", jqBroken, "NotIn")
	checkLast("pod-broken", jqBroken, "In")
	checkLast("pod-complete", jqExitsNonZero, "NotIn")
	checkLast("pod-job-failed", jqExitsNonZero, "In")
	failed, _ := next(names["pod-job-failed"])["statusTemplate"].(string)
	for _, want := range []string{"exitCode: 1", "reason: Error", "phase: Failed"} {
		if !strings.Contains(failed, want) {
			t.Errorf("pod-job-failed template lacks %q", want)
		}
	}
	if !strings.Contains(next(names["pod-broken"])["statusTemplate"].(string), "CrashLoopBackOff") {
		t.Error("pod-broken template lacks CrashLoopBackOff")
	}
}

func keys(m map[string]stage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
