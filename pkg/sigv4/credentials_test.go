package sigv4

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func envOf(m map[string]string) Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

var chainNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestEnvironmentKeys(t *testing.T) {
	c := &Chain{Env: envOf(map[string]string{EnvAccessKeyID: "AKIAENV", EnvSecretAccessKey: "secret", EnvSessionToken: "token"})}
	got, err := c.Retrieve(context.Background())
	if err != nil || got != (Credentials{AccessKeyID: "AKIAENV", SecretAccessKey: "secret", SessionToken: "token"}) {
		t.Fatalf("%+v, %v", got, err)
	}
	c = &Chain{Env: envOf(map[string]string{legacyEnvAccessKeyID: "AKIAOLD", legacyEnvSecretKey: "old"})}
	if got, err := c.Retrieve(context.Background()); err != nil || got.AccessKeyID != "AKIAOLD" {
		t.Fatalf("legacy names: %+v, %v", got, err)
	}
	c = &Chain{Env: envOf(map[string]string{EnvAccessKeyID: "AKIAENV"})}
	if _, err := c.Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), EnvSecretAccessKey) {
		t.Fatalf("half a key pair: %v", err)
	}
}

func TestWebIdentity(t *testing.T) {
	var calls atomic.Int32
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "" {
			t.Errorf("%s with Authorization %q", r.Method, r.Header.Get("Authorization"))
		}
		raw, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(raw))
		if form.Get("Action") != "AssumeRoleWithWebIdentity" || form.Get("Version") != "2011-06-15" ||
			form.Get("RoleArn") != "arn:aws:iam::123456789012:role/rollouts" || form.Get("WebIdentityToken") != "eyJhbGciOi.jwt" || form.Get("RoleSessionName") != "argo" {
			t.Errorf("form %v", form)
		}
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>%s</Expiration>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>`, chainNow.Add(time.Hour).Format(time.RFC3339))
	}))
	defer sts.Close()
	now := chainNow
	c := &Chain{
		Env: envOf(map[string]string{
			EnvWebIdentityToken:    "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
			EnvRoleARN:             "arn:aws:iam::123456789012:role/rollouts",
			EnvRoleSessionName:     "argo",
			EnvRegion:              "us-west-2",
			"AWS_ENDPOINT_URL_STS": sts.URL,
		}),
		ReadFile: func(name string) ([]byte, error) {
			if name != "/var/run/secrets/eks.amazonaws.com/serviceaccount/token" {
				return nil, os.ErrNotExist
			}
			return []byte("eyJhbGciOi.jwt\n"), nil
		},
		Now: func() time.Time { return now },
	}
	got, err := c.Retrieve(context.Background())
	if err != nil || got.AccessKeyID != "ASIAEXAMPLE" || got.SessionToken != "FwoGZXIvYXdzEXAMPLE" || !got.Expires.Equal(chainNow.Add(time.Hour)) {
		t.Fatalf("%+v, %v", got, err)
	}
	// Cached while valid, fetched again close to expiry.
	now = chainNow.Add(50 * time.Minute)
	if _, err := c.Retrieve(context.Background()); err != nil || calls.Load() != 1 {
		t.Fatalf("cached: %v after %d calls", err, calls.Load())
	}
	now = chainNow.Add(56 * time.Minute)
	if _, err := c.Retrieve(context.Background()); err != nil || calls.Load() != 2 {
		t.Fatalf("refreshed: %v after %d calls", err, calls.Load())
	}
}

func TestWebIdentityRefused(t *testing.T) {
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>`)
	}))
	defer sts.Close()
	c := &Chain{
		Env:      envOf(map[string]string{EnvWebIdentityToken: "/token", EnvRoleARN: "arn:aws:iam::1:role/r", EnvEndpointURL: sts.URL}),
		ReadFile: func(string) ([]byte, error) { return []byte("jwt"), nil },
	}
	if _, err := c.Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("%v", err)
	}
}

func TestContainerEndpoint(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/credentials" || r.Header.Get("Authorization") != "pod-identity-token" {
			t.Errorf("%s with %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		fmt.Fprintf(w, `{"AccessKeyId":"ASIAPOD","SecretAccessKey":"podsecret","Token":"podtoken","AccountId":"123456789012","Expiration":%q}`, chainNow.Add(6*time.Hour).Format(time.RFC3339))
	}))
	defer srv.Close()
	c := &Chain{
		Env:      envOf(map[string]string{EnvContainerFullURI: srv.URL + "/v1/credentials", EnvContainerAuthFile: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}),
		ReadFile: func(string) ([]byte, error) { return []byte("pod-identity-token"), nil },
		Now:      func() time.Time { return chainNow },
	}
	got, err := c.Retrieve(context.Background())
	if err != nil || got.AccessKeyID != "ASIAPOD" || got.SessionToken != "podtoken" {
		t.Fatalf("%+v, %v", got, err)
	}
	for _, bad := range []string{"http://example.com/creds", "ftp://127.0.0.1/x"} {
		c := &Chain{Env: envOf(map[string]string{EnvContainerFullURI: bad})}
		if _, err := c.Retrieve(context.Background()); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestInstanceMetadata(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
				t.Error("no token TTL")
			}
			_, _ = io.WriteString(w, "imds-session")
		case r.Header.Get("X-aws-ec2-metadata-token") != "imds-session":
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			_, _ = io.WriteString(w, "node-role\n")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/node-role":
			fmt.Fprintf(w, `{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIANODE","SecretAccessKey":"nodesecret","Token":"nodetoken","Expiration":%q}`, chainNow.Add(time.Hour).Format(time.RFC3339))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	c := &Chain{Env: envOf(map[string]string{EnvIMDSEndpoint: srv.URL}), Now: func() time.Time { return chainNow }}
	got, err := c.Retrieve(context.Background())
	if err != nil || got.AccessKeyID != "ASIANODE" || got.SessionToken != "nodetoken" {
		t.Fatalf("%+v, %v", got, err)
	}
	c = &Chain{Env: envOf(map[string]string{EnvIMDSDisabled: "true"})}
	if _, err := c.Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("disabled: %v", err)
	}
}

func TestRegionAndEndpoint(t *testing.T) {
	if r := Region(envOf(map[string]string{EnvDefaultRegion: "eu-west-1"})); r != "eu-west-1" {
		t.Errorf("region %q", r)
	}
	if r := Region(envOf(map[string]string{EnvDefaultRegion: "eu-west-1", EnvRegion: "us-east-2"})); r != "us-east-2" {
		t.Errorf("region %q", r)
	}
	for _, tc := range []struct {
		env    map[string]string
		region string
		want   string
	}{
		{nil, "us-east-1", "https://monitoring.us-east-1.amazonaws.com"},
		{nil, "cn-north-1", "https://monitoring.cn-north-1.amazonaws.com.cn"},
		{map[string]string{EnvEndpointURL: "http://localstack:4566/"}, "us-east-1", "http://localstack:4566"},
		{map[string]string{EnvEndpointURL: "http://a", "AWS_ENDPOINT_URL_CLOUDWATCH": "http://b"}, "us-east-1", "http://b"},
	} {
		if got := Endpoint(envOf(tc.env), "CloudWatch", "monitoring", tc.region); got != tc.want {
			t.Errorf("%v %s: %s, want %s", tc.env, tc.region, got, tc.want)
		}
	}
}
