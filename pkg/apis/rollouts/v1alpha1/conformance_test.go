package v1alpha1_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serin-dev/serin/internal/manifesttest"
	"github.com/serin-dev/serin/internal/testpaths"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// newObject returns an empty object of one of this package's kinds.
func newObject(kind string) any {
	switch kind {
	case v1alpha1.RolloutKind:
		return &v1alpha1.Rollout{}
	case v1alpha1.AnalysisTemplateKind:
		return &v1alpha1.AnalysisTemplate{}
	case v1alpha1.ClusterAnalysisTemplateKind:
		return &v1alpha1.ClusterAnalysisTemplate{}
	case v1alpha1.AnalysisRunKind:
		return &v1alpha1.AnalysisRun{}
	case v1alpha1.ExperimentKind:
		return &v1alpha1.Experiment{}
	}
	return nil
}

// invalidUpstreamDocuments are upstream example files with a document that is
// not valid YAML, so that no API server accepts it either.
var invalidUpstreamDocuments = map[string]string{
	"rollout-linkerd.yaml": "an unquoted {{args.linkerd-enabled}} annotation value parses as a map key",
}

// TestUpstreamExamplesRoundTrip decodes every argoproj.io object of Argo
// Rollouts' example manifests strictly into Serin's types, encodes it again,
// and fails if any field was unknown or lost on the way.
func TestUpstreamExamplesRoundTrip(t *testing.T) {
	dir := testpaths.Shared(t, "conformance", "upstream-examples")
	objs, err := manifesttest.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, o := range objs {
		if o.Err != nil {
			if reason, ok := invalidUpstreamDocuments[filepath.Base(o.File)]; ok {
				t.Logf("skipping %s: %s (%v)", o, reason, o.Err)
				continue
			}
			t.Errorf("%s: %v", o, o.Err)
			continue
		}
		if !strings.HasPrefix(o.APIVersion, v1alpha1.GroupName+"/") {
			continue
		}
		t.Run(o.String(), func(t *testing.T) {
			obj := newObject(o.Kind)
			if obj == nil {
				t.Fatalf("unknown kind %q", o.Kind)
			}
			if err := manifesttest.DecodeStrict(o.JSON, obj); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			out, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			lost, err := manifesttest.Lost(o.JSON, out)
			if err != nil {
				t.Fatal(err)
			}
			if len(lost) > 0 {
				t.Errorf("re-encoding lost %d fields:\n  %s", len(lost), strings.Join(lost, "\n  "))
			}
		})
		seen[o.Kind]++
	}
	for _, kind := range []string{v1alpha1.RolloutKind, v1alpha1.AnalysisTemplateKind, v1alpha1.ClusterAnalysisTemplateKind, v1alpha1.ExperimentKind} {
		if seen[kind] == 0 {
			t.Errorf("the corpus held no %s: the test is not reading what it should", kind)
		}
	}
}
