package sigv4

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The example credentials and instant of AWS's Signature Version 4 test
// suite and of the IAM example in the signing documentation.
var (
	suiteCreds = Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	suiteTime  = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestPublishedVectors(t *testing.T) {
	for _, tc := range []struct {
		name, method, url, contentType, body, region, service string
		wantSigned, wantSignature                             string
	}{
		{
			name: "get-vanilla", method: "GET", url: "https://example.amazonaws.com/", region: "us-east-1", service: "service",
			wantSigned: "host;x-amz-date", wantSignature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		},
		{
			name: "get-vanilla-query-order-key-case", method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1", region: "us-east-1", service: "service",
			wantSigned: "host;x-amz-date", wantSignature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
		},
		{
			name: "post-vanilla", method: "POST", url: "https://example.amazonaws.com/", region: "us-east-1", service: "service",
			wantSigned: "host;x-amz-date", wantSignature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
		},
		{
			name: "post-x-www-form-urlencoded", method: "POST", url: "https://example.amazonaws.com/", contentType: "application/x-www-form-urlencoded", body: "Param1=value1", region: "us-east-1", service: "service",
			wantSigned: "content-type;host;x-amz-date", wantSignature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
		},
		{
			name: "IAM ListUsers", method: "GET", url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", contentType: "application/x-www-form-urlencoded; charset=utf-8", region: "us-east-1", service: "iam",
			wantSigned: "content-type;host;x-amz-date", wantSignature: "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			var payload []byte
			if tc.body != "" {
				payload = []byte(tc.body)
			}
			if err := Sign(req, payload, suiteCreds, tc.region, tc.service, suiteTime); err != nil {
				t.Fatal(err)
			}
			want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/" + tc.region + "/" + tc.service + "/aws4_request, SignedHeaders=" + tc.wantSigned + ", Signature=" + tc.wantSignature
			if got := req.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization\n got %s\nwant %s", got, want)
			}
			if got := req.Header.Get("X-Amz-Date"); got != "20150830T123600Z" {
				t.Errorf("X-Amz-Date %s", got)
			}
		})
	}
}

// TestGetVanillaSteps checks the intermediate products of get-vanilla,
// which the test suite publishes too.
func TestGetVanillaSteps(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://example.amazonaws.com/", nil)
	req.Header.Set("X-Amz-Date", "20150830T123600Z")
	canonical, signed := canonicalRequest(req, payloadHash(nil))
	wantCanonical := "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptySHA256
	if canonical != wantCanonical || signed != "host;x-amz-date" {
		t.Errorf("canonical request\n%q\nwant\n%q", canonical, wantCanonical)
	}
	toSign := stringToSign(suiteTime, credentialScope(suiteTime, "us-east-1", "service"), canonical)
	wantToSign := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
	if toSign != wantToSign {
		t.Errorf("string to sign\n%q\nwant\n%q", toSign, wantToSign)
	}
}

// TestFormSteps checks the body hash and string to sign of
// post-x-www-form-urlencoded.
func TestFormSteps(t *testing.T) {
	if got := payloadHash([]byte("Param1=value1")); got != "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e" {
		t.Errorf("payload hash %s", got)
	}
	req, _ := http.NewRequest("POST", "https://example.amazonaws.com/", strings.NewReader("Param1=value1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Amz-Date", "20150830T123600Z")
	canonical, _ := canonicalRequest(req, payloadHash([]byte("Param1=value1")))
	toSign := stringToSign(suiteTime, credentialScope(suiteTime, "us-east-1", "service"), canonical)
	if !strings.HasSuffix(toSign, "\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281") {
		t.Errorf("string to sign %q", toSign)
	}
}

// TestSigningKey checks the key derived in the IAM example.
func TestSigningKey(t *testing.T) {
	got := hex.EncodeToString(signingKey(suiteCreds.SecretAccessKey, suiteTime, "us-east-1", "iam"))
	if got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Errorf("signing key %s", got)
	}
}

func TestSessionTokenIsSigned(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://monitoring.eu-west-1.amazonaws.com/", strings.NewReader("{}"))
	req.Header.Set("User-Agent", "serin")
	creds := suiteCreds
	creds.SessionToken = "session/token+value="
	if err := Sign(req, []byte("{}"), creds, "eu-west-1", "monitoring", suiteTime); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("X-Amz-Security-Token") != creds.SessionToken {
		t.Error("session token not sent")
	}
	auth := req.Header.Get("Authorization")
	if !strings.Contains(auth, "SignedHeaders=host;x-amz-date;x-amz-security-token,") || !strings.Contains(auth, "/20150830/eu-west-1/monitoring/aws4_request") {
		t.Errorf("Authorization %s", auth)
	}
}

func TestCanonicalQueryEncoding(t *testing.T) {
	got := canonicalQuery("b=two+words&a=x%2Fy&a=~ok&c")
	if want := "a=x%2Fy&a=~ok&b=two%20words&c="; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestIncompleteCredentials(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://example.amazonaws.com/", nil)
	if err := Sign(req, nil, Credentials{AccessKeyID: "AKID"}, "us-east-1", "service", suiteTime); err == nil {
		t.Error("signed without a secret key")
	}
}
