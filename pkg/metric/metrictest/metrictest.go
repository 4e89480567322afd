// Package metrictest holds the stand-ins the metric providers' tests share:
// an in-memory Secret source, an evaluator that records what it was given,
// an HTTP client that answers without a network, and the checks of the
// response cap and of the fuzz targets' property.
package metrictest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
)

// Secrets serves Secrets from memory, keyed "namespace/name" and then by data
// key. A Secret that is not in the map is NotFound, as the API server says.
type Secrets map[string]map[string]string

// GetSecret returns a fresh copy of the Secret, so a provider that changes it
// cannot change what the next call sees.
func (s Secrets) GetSecret(_ context.Context, namespace, name string) (*corev1.Secret, error) {
	data, ok := s[namespace+"/"+name]
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		secret.Data[k] = []byte(v)
	}
	return secret, nil
}

// Evaluator stands in for metric.Evaluate. It keeps the last result handed to
// it, then answers Error with Err when Err is set, otherwise Phase
// (Successful when Phase is empty).
type Evaluator struct {
	Got    any
	Called bool
	Phase  v1alpha1.AnalysisPhase
	Err    error
}

// Evaluate has the signature the providers take for their condition check.
func (e *Evaluator) Evaluate(result any, _ v1alpha1.Metric) (v1alpha1.AnalysisPhase, error) {
	e.Got, e.Called = result, true
	if e.Err != nil {
		return v1alpha1.AnalysisPhaseError, e.Err
	}
	if e.Phase == "" {
		return v1alpha1.AnalysisPhaseSuccessful, nil
	}
	return e.Phase, nil
}

// TooLargeMessage is what an Error measurement says of an answer above
// httpclient.MaxResponseBytes.
const TooLargeMessage = "response body exceeds 1048576 bytes"

// Padded is prefix, then filler repeated until the whole is over the
// 1 MiB response cap, then suffix: a well-formed answer, too big to read.
func Padded(prefix, filler, sep, suffix string) string {
	n := (1<<20)/len(filler+sep) + 1
	return prefix + strings.Repeat(filler+sep, n) + filler + suffix
}

// WantTooLarge fails t unless m is an Error measurement naming the response
// cap, with no value and no condition evaluated.
func WantTooLarge(t testing.TB, m v1alpha1.Measurement, e *Evaluator) {
	t.Helper()
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, TooLargeMessage) || m.Value != "" || (e != nil && e.Called) {
		t.Errorf("got %s %q, a value of %d bytes, evaluated %v; want an Error naming the cap", m.Phase, m.Message, len(m.Value), e != nil && e.Called)
	}
}

// phases are the phases a provider call may leave a measurement in.
var phases = map[v1alpha1.AnalysisPhase]bool{
	v1alpha1.AnalysisPhaseRunning:      true,
	v1alpha1.AnalysisPhaseSuccessful:   true,
	v1alpha1.AnalysisPhaseFailed:       true,
	v1alpha1.AnalysisPhaseInconclusive: true,
	v1alpha1.AnalysisPhaseError:        true,
}

// WantStorable is the property the providers' fuzz targets check: m has a
// phase a provider may return and, bounded as the analysis reconciler
// stores it (metric.Bound), each text field is valid UTF-8 within
// metric.MaxValueBytes.
func WantStorable(t testing.TB, m v1alpha1.Measurement) {
	t.Helper()
	if !phases[m.Phase] {
		t.Fatalf("phase %q", m.Phase)
	}
	b := metric.Bound(m)
	fields := []string{b.Value, b.Message}
	for k, v := range b.Metadata {
		fields = append(fields, k, v)
	}
	for _, f := range fields {
		if len(f) > metric.MaxValueBytes || !utf8.ValidString(f) {
			t.Fatalf("a stored field of %d bytes (valid UTF-8: %v)", len(f), utf8.ValidString(f))
		}
	}
}

// Outcome is the measurement a provider makes of a parsed answer: Error
// with err's message when err is set, else phase with value.
func Outcome(phase v1alpha1.AnalysisPhase, value string, err error) v1alpha1.Measurement {
	if err != nil {
		return metric.MarkError(v1alpha1.Measurement{Value: value}, err)
	}
	return v1alpha1.Measurement{Phase: phase, Value: value}
}

// Answer is an HTTP client that answers every request with 200 and body,
// without a network.
func Answer(body []byte) *http.Client {
	return &http.Client{Transport: answer(body)}
}

type answer []byte

func (a answer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(a)),
		ContentLength: int64(len(a)),
		Request:       r,
	}, nil
}
