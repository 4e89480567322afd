package approval

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

func rollout(annotations map[string]string) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "web", Annotations: annotations}}
}

func run(t *testing.T, ro *v1alpha1.Rollout, config string) wire.RpcStepResult {
	t.Helper()
	res, err := Plugin{}.Run(context.Background(), ro, &wire.RpcStepContext{PluginName: Name, Config: json.RawMessage(config)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestTheStepWaitsForTheAnnotationNamingTheRevision(t *testing.T) {
	ro := rollout(map[string]string{v1alpha1.AnnotationRevision: "3", DefaultApprovedAnnotation: "2"})
	res := run(t, ro, `{}`)
	if res.Phase != wire.StepPhaseRunning || res.RequeueAfter != DefaultInterval || res.Message != "waiting for the annotation serin.dev/approved-revision=3" {
		t.Fatalf("approval of an older revision: %+v, want Running", res)
	}
	ro.Annotations[DefaultApprovedAnnotation] = "3"
	if res := run(t, ro, ``); res.Phase != wire.StepPhaseSuccessful || res.Message != "revision 3 approved (serin.dev/approved-revision)" {
		t.Fatalf("approved: %+v", res)
	}
}

func TestARejectionFailsTheStep(t *testing.T) {
	ro := rollout(map[string]string{v1alpha1.AnnotationRevision: "3", DefaultApprovedAnnotation: "3", DefaultRejectedAnnotation: "3"})
	if res := run(t, ro, `{}`); res.Phase != wire.StepPhaseFailed || !strings.Contains(res.Message, "revision 3 rejected") {
		t.Fatalf("rejected: %+v, want Failed (a rejection wins)", res)
	}
}

func TestTheConfigNamesOtherAnnotationsAndTheInterval(t *testing.T) {
	ro := rollout(map[string]string{v1alpha1.AnnotationRevision: "4", DefaultApprovedAnnotation: "4"})
	config := `{"approvedAnnotation": "example.com/qa", "interval": "20s"}`
	if res := run(t, ro, config); res.Phase != wire.StepPhaseRunning || res.RequeueAfter != 20*time.Second {
		t.Fatalf("%+v: the default annotation must not approve a step that names another", res)
	}
	ro.Annotations["example.com/qa"] = "4"
	if res := run(t, ro, config); res.Phase != wire.StepPhaseSuccessful {
		t.Fatalf("%+v", res)
	}
}

func TestABadConfigIsAClearError(t *testing.T) {
	for config, want := range map[string]string{
		`{"interval": "soon"}`: `serin.dev/approval: invalid interval "soon"`,
		`[1]`:                  "serin.dev/approval: invalid config",
	} {
		_, err := Plugin{}.Run(context.Background(), rollout(nil), &wire.RpcStepContext{Config: json.RawMessage(config)})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("config %s: error %v, want %q", config, err, want)
		}
	}
	if _, err := (Plugin{}).Run(context.Background(), nil, nil); err == nil {
		t.Error("no Rollout: want an error, not a panic")
	}
}

func TestTerminateAndAbortSucceed(t *testing.T) {
	for _, f := range []func(context.Context, *v1alpha1.Rollout, *wire.RpcStepContext) (wire.RpcStepResult, error){Plugin{}.Terminate, Plugin{}.Abort} {
		if res, err := f(context.Background(), rollout(nil), &wire.RpcStepContext{}); err != nil || res.Phase != wire.StepPhaseSuccessful {
			t.Fatalf("%+v %v", res, err)
		}
	}
}
