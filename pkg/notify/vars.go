package notify

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/argoproj/notifications-engine/pkg/api"
	"github.com/argoproj/notifications-engine/pkg/services"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

// settings tells the engine where the configuration lives and what a
// template sees, as Argo Rollouts does: the object as "rollout", the
// Secret's data as "secrets", the time helpers as "time" and, for a Rollout,
// the AnalysisRuns of its current revision, newest first, as "analysisRuns".
func settings(runs rolloutlisters.AnalysisRunLister, now func() time.Time) api.Settings {
	clock := timeHelpers(now)
	return api.Settings{
		ConfigMapName: ConfigMapName,
		SecretName:    SecretName,
		InitGetVars: func(_ *api.Config, _ *corev1.ConfigMap, secret *corev1.Secret) (api.GetVars, error) {
			return func(obj map[string]any, _ services.Destination) map[string]any {
				vars := map[string]any{"rollout": obj, "time": clock, "secrets": secret.Data}
				if runs != nil {
					if list, err := analysisRunsOf(obj, runs); err == nil {
						vars["analysisRuns"] = list
					}
				}
				return vars
			}, nil
		},
	}
}

// timeHelpers are the functions templates and conditions call as
// time.Now() and time.Parse(s), s in RFC 3339.
func timeHelpers(now func() time.Time) map[string]any {
	return map[string]any{
		"Now": func() time.Time { return now() },
		"Parse": func(s string) (time.Time, error) {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return time.Time{}, fmt.Errorf("time.Parse: %q is not an RFC 3339 time: %w", s, err)
			}
			return t, nil
		},
	}
}

// analysisRunsOf lists, as plain JSON values, the AnalysisRuns of the
// Rollout obj's current pod template and revision, newest first. It returns
// nil, nil when there are none.
func analysisRunsOf(obj map[string]any, runs rolloutlisters.AnalysisRunLister) ([]any, error) {
	var ro v1alpha1.Rollout
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &ro); err != nil {
		return nil, fmt.Errorf("reading the Rollout for its AnalysisRuns: %w", err)
	}
	selector := labels.SelectorFromSet(labels.Set{v1alpha1.LabelPodTemplateHash: ro.Status.CurrentPodHash})
	all, err := runs.AnalysisRuns(ro.Namespace).List(selector)
	if err != nil {
		return nil, err
	}
	revision := ro.Annotations[v1alpha1.AnnotationRevision]
	var matching []*v1alpha1.AnalysisRun
	for _, run := range all {
		if run.Annotations[v1alpha1.AnnotationRevision] == revision {
			matching = append(matching, run)
		}
	}
	if len(matching) == 0 {
		return nil, nil
	}
	sort.SliceStable(matching, func(i, j int) bool {
		return matching[i].CreationTimestamp.After(matching[j].CreationTimestamp.Time)
	})
	data, err := json.Marshal(matching)
	if err != nil {
		return nil, err
	}
	var out []any
	err = json.Unmarshal(data, &out)
	return out, err
}

// objectMap is obj as the JSON object a template sees.
func objectMap(obj runtime.Object) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}
