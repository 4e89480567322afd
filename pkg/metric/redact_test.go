package metric

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
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

func TestRedactCatchesTheSecretInEveryEncodingItTravelsIn(t *testing.T) {
	secret := `p&ss"w<rd>/+?=`
	for name, shown := range map[string]string{
		"Go %q":            fmt.Sprintf("bad token %q", secret),
		"JSON":             string(mustJSON(t, map[string]string{"token": secret})),
		"URL query":        "https://api.example.com/q?key=" + url.QueryEscape(secret),
		"URL path":         "https://api.example.com/keys/" + url.PathEscape(secret),
		"base64":           "Authorization: Bearer " + base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64 URL, bare": "token=" + base64.RawURLEncoding.EncodeToString([]byte(secret)),
		"as written":       "token " + secret,
	} {
		got := Redact(shown, []string{secret})
		if !strings.Contains(got, Redacted) {
			t.Errorf("%s: %q was not redacted: %q", name, shown, got)
		}
		for _, form := range encodedForms(secret) {
			if strings.Contains(got, form) {
				t.Errorf("%s: %q still holds the secret as %q", name, got, form)
			}
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
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
