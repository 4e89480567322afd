// Package metrictest holds the stand-ins the metric providers' tests share:
// an in-memory Secret source and an evaluator that records what it was given.
package metrictest

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
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
