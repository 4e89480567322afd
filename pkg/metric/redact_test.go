package metric

import (
	"reflect"
	"strings"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestRedact(t *testing.T) {
	if got := Redact("token=abc123 and abc123", []string{"abc123", ""}); got != "token=***** and *****" {
		t.Errorf("got %q", got)
	}
}

func TestRedactMeasurement(t *testing.T) {
	secret := strings.Repeat("k", 8)
	short := "7" // a one-character secret is still a secret
	in := v1alpha1.Measurement{
		Phase:   v1alpha1.AnalysisPhaseError,
		Message: "bad key " + secret + " or pin " + short,
		Value:   "[" + secret + "]",
		Metadata: map[string]string{
			"key-" + secret: "value-" + secret,
			"pin":           short,
		},
	}
	got := RedactMeasurement(in, []string{secret, short, ""})
	want := v1alpha1.Measurement{
		Phase:   v1alpha1.AnalysisPhaseError,
		Message: "bad key ***** or pin *****",
		Value:   "[*****]",
		Metadata: map[string]string{
			"key-*****": "value-*****",
			"pin":       "*****",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RedactMeasurement = %+v, want %+v", got, want)
	}
	if _, ok := in.Metadata["key-"+secret]; !ok {
		t.Errorf("RedactMeasurement changed the caller's metadata map: %v", in.Metadata)
	}
	if got := RedactMeasurement(v1alpha1.Measurement{Message: "m"}, []string{secret}); got.Metadata != nil {
		t.Errorf("RedactMeasurement made metadata %v out of none", got.Metadata)
	}
}

func TestRedactMap(t *testing.T) {
	secret := "s3cr3t"
	in := map[string]string{"q-" + secret: "up{token=\"" + secret + "\"}"}
	got := RedactMap(in, []string{secret})
	if want := map[string]string{"q-*****": `up{token="*****"}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("RedactMap = %v, want %v", got, want)
	}
	if _, ok := in["q-"+secret]; !ok {
		t.Errorf("RedactMap changed the caller's map: %v", in)
	}
	if got := RedactMap(nil, []string{secret}); got != nil {
		t.Errorf("RedactMap(nil) = %v, want nil", got)
	}
}
