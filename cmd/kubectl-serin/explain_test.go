package main

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
)

// explain reads the Rollout, the ReplicaSets and AnalysisRuns it controls
// (and not those of another owner) and names the deciding measurement.
func TestExplainReadsWhatTheRolloutOwns(t *testing.T) {
	yes := true
	ro := rolloutWith(v1alpha1.RolloutPhaseDegraded, true)
	ro.UID = "ro-uid"
	ro.Status.CurrentPodHash, ro.Status.StableRS = "new", "old"
	owner := []metav1.OwnerReference{{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Name: "guestbook", UID: "ro-uid", Controller: &yes}}
	rs := func(name, hash, rev string) *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "demo", OwnerReferences: owner,
			Labels: map[string]string{v1alpha1.LabelPodTemplateHash: hash}, Annotations: map[string]string{v1alpha1.AnnotationRevision: rev}}}
	}
	run := func(name string, refs []metav1.OwnerReference, value string) *v1alpha1.AnalysisRun {
		return &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "demo", OwnerReferences: refs,
			Labels: map[string]string{v1alpha1.LabelPodTemplateHash: "new", v1alpha1.LabelRolloutType: "Step"}},
			Status: v1alpha1.AnalysisRunStatus{Phase: v1alpha1.AnalysisPhaseFailed, MetricResults: []v1alpha1.MetricResult{{
				Name: "rate", Phase: v1alpha1.AnalysisPhaseFailed, Failed: 1,
				Measurements: []v1alpha1.Measurement{{Phase: v1alpha1.AnalysisPhaseFailed, Value: value}}}}}}
	}
	c := &clients{namespace: "demo",
		kube: kubefake.NewSimpleClientset(rs("guestbook-old", "old", "1"), rs("guestbook-new", "new", "2")),
		rollouts: fake.NewSimpleClientset(ro, run("ours", owner, "[0.8]"),
			run("someone-elses", []metav1.OwnerReference{{Kind: "Rollout", Name: "other", UID: "other", Controller: &yes}}, "[0.1]"))}
	code, out, errOut := runWith(t, c, "explain", "rollout", "guestbook")
	if code != 0 || !strings.Contains(out, "deciding measurement: value [0.8]") || strings.Contains(out, "someone-elses") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runWith(t, c, "explain", "deployment", "guestbook"); code != exitError || !strings.Contains(errOut, "explain knows Rollouts only") {
		t.Fatalf("explain deployment: exit %d, %s", code, errOut)
	}
}
