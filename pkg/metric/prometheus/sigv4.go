package prometheus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"k8s.io/utils/clock"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/sigv4"
)

// apsService is the SigV4 service name of Amazon Managed Service for
// Prometheus.
const apsService = "aps"

// CredentialsSource gives the AWS credentials to sign with.
type CredentialsSource interface {
	Retrieve(ctx context.Context) (sigv4.Credentials, error)
}

// defaultCredentials is shared by all providers, so temporary credentials
// are cached across measurements.
var defaultCredentials = &sigv4.Chain{}

// newSigner returns the transport wrapper that signs each request with
// SigV4 for the metric's region (else the environment's). Credentials come
// from the AWS default chain (environment, web identity, container and
// instance metadata); named profiles and role assumption are not supported.
func newSigner(cfg v1alpha1.Sigv4Config, o Options) (func(http.RoundTripper) http.RoundTripper, error) {
	if cfg.Profile != "" || cfg.RoleARN != "" {
		return nil, errors.New("sigv4 profile and roleArn are not supported by this version of Serin; use the default AWS credential chain")
	}
	region := cfg.Region
	if region == "" {
		region = sigv4.Region(os.LookupEnv)
	}
	if region == "" {
		return nil, errors.New("sigv4 region is not configured")
	}
	creds := o.AWSCredentials
	if creds == nil {
		creds = defaultCredentials
	}
	endpoint := o.AWSEndpoint
	if endpoint == nil {
		endpoint = IsAWSEndpoint
	}
	return func(next http.RoundTripper) http.RoundTripper {
		return signer{endpoint: endpoint, creds: creds, region: region, clock: o.Clock, next: next}
	}, nil
}

// signer signs requests with SigV4, to AWS endpoints only.
type signer struct {
	endpoint func(*url.URL) bool
	creds    CredentialsSource
	region   string
	clock    clock.PassiveClock
	next     http.RoundTripper
}

// IsAWSEndpoint tells whether a request to u may carry the controller's AWS
// credentials: HTTPS to a host of AWS's own domains. Anything else (an
// address a user wrote, a redirect) is never signed, so that no credential
// or session token reaches a server outside AWS.
func IsAWSEndpoint(u *url.URL) bool {
	if u.Scheme != "https" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, domain := range []string{".amazonaws.com", ".amazonaws.com.cn", ".api.aws"} {
		if strings.HasSuffix(host, domain) {
			return true
		}
	}
	return false
}

func (s signer) RoundTrip(req *http.Request) (*http.Response, error) {
	if !s.endpoint(req.URL) {
		return nil, fmt.Errorf("refusing to sign a request to %s with AWS credentials: not an AWS endpoint (https://*.amazonaws.com)", req.URL.Host)
	}
	var payload []byte
	if req.Body != nil {
		var err error
		if payload, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
	}
	creds, err := s.creds.Retrieve(req.Context())
	if err != nil {
		return nil, fmt.Errorf("sigv4 credentials: %w", err)
	}
	signed := req.Clone(req.Context())
	if payload != nil {
		signed.Body = io.NopCloser(bytes.NewReader(payload))
		signed.ContentLength = int64(len(payload))
	}
	if err := sigv4.Sign(signed, payload, creds, s.region, apsService, s.clock.Now()); err != nil {
		return nil, err
	}
	return s.next.RoundTrip(signed)
}
