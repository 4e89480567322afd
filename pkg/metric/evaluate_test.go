package metric

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestEvaluate(t *testing.T) {
	ptr := func(f float64) *float64 { return &f }
	var nilFloat *float64
	tests := map[string]struct {
		success, failure string
		result           any
		want             v1alpha1.AnalysisPhase
		wantErr          string
	}{
		"a vector above the threshold succeeds":            {success: "result[0] >= 0.95", result: []float64{0.99}, want: v1alpha1.AnalysisPhaseSuccessful},
		"a vector below the threshold fails":               {success: "result[0] >= 0.95", result: []float64{0.9}, want: v1alpha1.AnalysisPhaseFailed},
		"an empty vector is an error that says no data":    {success: "result[0] >= 0.95", result: []float64{}, want: v1alpha1.AnalysisPhaseError, wantErr: "metric result is nil or empty"},
		"a guarded empty vector fails instead of erroring": {success: "len(result) > 0 && result[0] < 2", result: []float64{}, want: v1alpha1.AnalysisPhaseFailed},
		"a guarded vector succeeds":                        {success: "len(result) > 0 && result[0] < 2", result: []float64{1}, want: v1alpha1.AnalysisPhaseSuccessful},
		"a scalar compares directly":                       {success: "result >= 0.95", result: 0.97, want: v1alpha1.AnalysisPhaseSuccessful},
		"isNaN on a NaN scalar":                            {success: "isNaN(result)", result: math.NaN(), want: v1alpha1.AnalysisPhaseSuccessful},
		"isNaN on an element of a vector":                  {failure: "isNaN(result[0])", result: []float64{math.NaN()}, want: v1alpha1.AnalysisPhaseFailed},
		"isInf":                                            {success: "isInf(result)", result: math.Inf(1), want: v1alpha1.AnalysisPhaseSuccessful},
		"asFloat converts a numeric string":                {success: "asFloat(result) > 1", result: "1.5", want: v1alpha1.AnalysisPhaseSuccessful},
		"asFloat of a non-number is an error":              {success: "asFloat(result) > 1", result: "abc", want: v1alpha1.AnalysisPhaseError, wantErr: "could not evaluate successCondition"},
		"asInt converts a numeric string":                  {success: "asInt(result) == 3", result: "3", want: v1alpha1.AnalysisPhaseSuccessful},
		"asInt truncates a float":                          {success: "asInt(result) == 3", result: 3.7, want: v1alpha1.AnalysisPhaseSuccessful},
		"default replaces a nil result":                    {success: "default(result, 0) > 1", result: nil, want: v1alpha1.AnalysisPhaseFailed},
		"default keeps a present result":                   {success: "default(result, 0) > 1", result: ptr(2), want: v1alpha1.AnalysisPhaseSuccessful},
		"default replaces a nil pointer":                   {success: "default(result, 5) > 1", result: nilFloat, want: v1alpha1.AnalysisPhaseSuccessful},
		"isNil on a nil result":                            {success: "isNil(result)", result: nil, want: v1alpha1.AnalysisPhaseSuccessful},
		"isNil on a value":                                 {success: "isNil(result)", result: 1.0, want: v1alpha1.AnalysisPhaseFailed},
		"pointers are followed":                            {success: "result == 2", result: ptr(2), want: v1alpha1.AnalysisPhaseSuccessful},
		"a web map field":                                  {success: "result.successful == true", result: map[string]any{"successful": true}, want: v1alpha1.AnalysisPhaseSuccessful},
		"a nested web map field":                           {success: "result.data.ok && result.data.rate > 0.5", result: map[string]any{"data": map[string]any{"ok": true, "rate": 0.7}}, want: v1alpha1.AnalysisPhaseSuccessful},
		"a plain string body":                              {success: `result == "OK"`, result: "OK", want: v1alpha1.AnalysisPhaseSuccessful},
		"no condition at all succeeds":                     {result: []float64{0}, want: v1alpha1.AnalysisPhaseSuccessful},
		"only a failure condition that holds fails":        {failure: "result[0] < 0.5", result: []float64{0.4}, want: v1alpha1.AnalysisPhaseFailed},
		"only a failure condition that does not hold":      {failure: "result[0] < 0.5", result: []float64{0.6}, want: v1alpha1.AnalysisPhaseSuccessful},
		"both false is inconclusive":                       {success: "result[0] > 0.9", failure: "result[0] < 0.5", result: []float64{0.7}, want: v1alpha1.AnalysisPhaseInconclusive},
		"both true: the failure wins":                      {success: "result[0] > 0.1", failure: "result[0] < 0.9", result: []float64{0.5}, want: v1alpha1.AnalysisPhaseFailed},
		"only the success condition holds":                 {success: "result[0] > 0.9", failure: "result[0] < 0.5", result: []float64{0.95}, want: v1alpha1.AnalysisPhaseSuccessful},
		"a non-bool condition is an error":                 {success: "result[0]", result: []float64{1}, want: v1alpha1.AnalysisPhaseError, wantErr: "expected bool, but got float64"},
		"a failure condition error names that condition":   {failure: "result.x.y", result: 1.0, want: v1alpha1.AnalysisPhaseError, wantErr: `could not evaluate failureCondition "result.x.y"`},
		"a syntax error is an error":                       {success: "result >=", result: 1.0, want: v1alpha1.AnalysisPhaseError, wantErr: "could not evaluate successCondition"},
		"all() over a vector":                              {success: "all(result, {# > 0.5})", result: []float64{0.6, 0.7}, want: v1alpha1.AnalysisPhaseSuccessful},
		"docs: all() with the short predicate form":        {success: "all(result, # < 1000)", result: []float64{10, 999}, want: v1alpha1.AnalysisPhaseSuccessful},
		"docs: all() over nested web maps with asFloat": {
			success: "all(result.service_apdex.values.values, {asFloat(.value) >= 9900})",
			result:  map[string]any{"service_apdex": map[string]any{"values": map[string]any{"values": []any{map[string]any{"value": "9950"}, map[string]any{"value": 9901.0}}}}},
			want:    v1alpha1.AnalysisPhaseSuccessful,
		},
		"docs: two web fields":                              {success: "result.ok && result.successPercent >= 0.90", result: map[string]any{"ok": true, "successPercent": 0.85}, want: v1alpha1.AnalysisPhaseFailed},
		"docs: isNaN or threshold on a NaN scalar":          {success: "isNaN(result) || result >= 0.95", result: math.NaN(), want: v1alpha1.AnalysisPhaseSuccessful},
		"docs: an empty vector allowed":                     {success: "len(result) == 0 || result[0] >= 0.95", result: []float64{}, want: v1alpha1.AnalysisPhaseSuccessful},
		"docs: max over a vector":                           {success: "max(result) < 0.05", result: []float64{0.01, 0.07}, want: v1alpha1.AnalysisPhaseFailed},
		"docs: isInf as a failure condition":                {failure: "isInf(result)", result: math.Inf(-1), want: v1alpha1.AnalysisPhaseFailed},
		"docs: a string compared with quotes":               {success: "result == 'true'", result: "true", want: v1alpha1.AnalysisPhaseSuccessful},
		"docs: a bool result":                               {success: "result == true", result: true, want: v1alpha1.AnalysisPhaseSuccessful},
		"docs: default in a failure condition":              {failure: "default(result, 0) > 3", result: nil, want: v1alpha1.AnalysisPhaseSuccessful},
		"a nil result with an index condition says no data": {success: "result[0] > 1", result: nil, want: v1alpha1.AnalysisPhaseError, wantErr: "no data returned from the metric provider"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Evaluate(tt.result, v1alpha1.Metric{Name: "m", SuccessCondition: tt.success, FailureCondition: tt.failure})
			if got != tt.want {
				t.Errorf("phase = %s, want %s (err %v)", got, tt.want, err)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestEvalConditionCachesPrograms(t *testing.T) {
	const cond = "result > 1 && true == true"
	if _, err := EvalCondition(2.0, cond); err != nil {
		t.Fatal(err)
	}
	programs.Lock()
	first := programs.m[cond]
	programs.Unlock()
	// The same text against a differently shaped result reuses the program.
	if ok, err := EvalCondition([]float64{1}, "len(result) == 1"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := EvalCondition(3.0, cond); err != nil {
		t.Fatal(err)
	}
	programs.Lock()
	defer programs.Unlock()
	if first == nil || programs.m[cond] != first {
		t.Fatal("program was not cached by its text")
	}
}

func TestEvalTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	got, err := EvalTime(`now() - duration("10m")`, now)
	if err != nil || !got.Equal(now.Add(-10*time.Minute)) {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := EvalTime("now()", now); err != nil || !got.Equal(now) {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := EvalTime("1 + 1", now); err == nil || !strings.Contains(err.Error(), "expected time.Time") {
		t.Fatalf("non-time result: %v", err)
	}
}
