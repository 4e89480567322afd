package sigv4

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Environment variables the credential chain reads, as the AWS SDKs name them.
const (
	EnvAccessKeyID        = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey    = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken       = "AWS_SESSION_TOKEN"
	EnvRegion             = "AWS_REGION"
	EnvDefaultRegion      = "AWS_DEFAULT_REGION"
	EnvWebIdentityToken   = "AWS_WEB_IDENTITY_TOKEN_FILE"
	EnvRoleARN            = "AWS_ROLE_ARN"
	EnvRoleSessionName    = "AWS_ROLE_SESSION_NAME"
	EnvContainerFullURI   = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	EnvContainerRelURI    = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
	EnvContainerAuth      = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
	EnvContainerAuthFile  = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
	EnvIMDSDisabled       = "AWS_EC2_METADATA_DISABLED"
	EnvIMDSEndpoint       = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
	EnvEndpointURL        = "AWS_ENDPOINT_URL"
	legacyEnvAccessKeyID  = "AWS_ACCESS_KEY"
	legacyEnvSecretKey    = "AWS_SECRET_KEY"
	ecsCredentialsHost    = "http://169.254.170.2"
	defaultIMDSEndpoint   = "http://169.254.169.254"
	defaultSessionName    = "serin"
	refreshBeforeExpiry   = 5 * time.Minute
	credentialsReqTimeout = 5 * time.Second
	imdsTimeout           = 2 * time.Second
)

// Env looks up an environment variable; os.LookupEnv is the real one.
type Env func(string) (string, bool)

// Chain finds credentials the way the AWS SDKs' default chain does, minus
// the shared config files: static keys in the environment, then a web
// identity token (IAM roles for service accounts on EKS), then the
// container credentials endpoint (EKS Pod Identity, ECS), then the EC2
// instance metadata service. Temporary credentials are cached until
// shortly before they expire. A Chain is safe for concurrent use.
type Chain struct {
	// Client sends the requests to STS and the credential endpoints.
	Client *http.Client
	// Env reads the environment; nil means os.LookupEnv.
	Env Env
	// ReadFile reads token files; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	cached Credentials
	source string
}

// Region is the region the environment names (AWS_REGION, else
// AWS_DEFAULT_REGION), or "".
func Region(env Env) string {
	if env == nil {
		env = os.LookupEnv
	}
	for _, k := range []string{EnvRegion, EnvDefaultRegion} {
		if v, ok := env(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Endpoint is the URL of an AWS service: the service's own endpoint
// variable (AWS_ENDPOINT_URL_<SERVICE ID>), else AWS_ENDPOINT_URL, else
// https://<prefix>.<region>.amazonaws.com (.com.cn in China).
func Endpoint(env Env, serviceID, prefix, region string) string {
	if env == nil {
		env = os.LookupEnv
	}
	for _, k := range []string{EnvEndpointURL + "_" + strings.ToUpper(strings.ReplaceAll(serviceID, " ", "_")), EnvEndpointURL} {
		if v, ok := env(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimRight(strings.TrimSpace(v), "/")
		}
	}
	if region == "" {
		return "https://" + prefix + ".amazonaws.com"
	}
	suffix := ".amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix = ".amazonaws.com.cn"
	}
	return "https://" + prefix + "." + region + suffix
}

// Retrieve returns credentials, from the cache while they last.
func (c *Chain) Retrieve(ctx context.Context) (Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.source != "" && c.source != "env" && !c.cached.Expires.IsZero() && c.now().Before(c.cached.Expires.Add(-refreshBeforeExpiry)) {
		return c.cached, nil
	}
	creds, source, err := c.find(ctx)
	if err != nil {
		return Credentials{}, err
	}
	c.cached, c.source = creds, source
	return creds, nil
}

func (c *Chain) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Chain) env(k string) string {
	lookup := c.Env
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, _ := lookup(k)
	return strings.TrimSpace(v)
}

func (c *Chain) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return http.DefaultClient
}

func (c *Chain) readFile(name string) ([]byte, error) {
	if c.ReadFile != nil {
		return c.ReadFile(name)
	}
	return os.ReadFile(name)
}

// find walks the chain. The environment is read on every call so that
// rotated keys are picked up; the other sources are asked only when the
// cache runs out.
func (c *Chain) find(ctx context.Context) (Credentials, string, error) {
	id := firstOf(c.env(EnvAccessKeyID), c.env(legacyEnvAccessKeyID))
	secret := firstOf(c.env(EnvSecretAccessKey), c.env(legacyEnvSecretKey))
	if id != "" && secret != "" {
		return Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: c.env(EnvSessionToken)}, "env", nil
	}
	if id != "" || secret != "" {
		return Credentials{}, "", fmt.Errorf("%s and %s must be set together", EnvAccessKeyID, EnvSecretAccessKey)
	}
	if file := c.env(EnvWebIdentityToken); file != "" {
		creds, err := c.webIdentity(ctx, file)
		return creds, "web identity", err
	}
	if full, rel := c.env(EnvContainerFullURI), c.env(EnvContainerRelURI); full != "" || rel != "" {
		creds, err := c.container(ctx, full, rel)
		return creds, "container", err
	}
	if strings.EqualFold(c.env(EnvIMDSDisabled), "true") {
		return Credentials{}, "", errors.New("no AWS credentials: none in the environment, no web identity token, no container credentials endpoint, and the instance metadata service is disabled")
	}
	creds, err := c.instanceMetadata(ctx)
	if err != nil {
		return Credentials{}, "", fmt.Errorf("no AWS credentials: none in the environment, no web identity token, no container credentials endpoint, and the instance metadata service did not provide any: %v", err)
	}
	return creds, "imds", nil
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// stsCredentials is the Credentials element of an STS answer.
type stsCredentials struct {
	AccessKeyID     string    `xml:"AccessKeyId"`
	SecretAccessKey string    `xml:"SecretAccessKey"`
	SessionToken    string    `xml:"SessionToken"`
	Expiration      time.Time `xml:"Expiration"`
}

// webIdentity exchanges the service account token in file for the role's
// credentials with STS AssumeRoleWithWebIdentity, a call STS accepts
// unsigned.
func (c *Chain) webIdentity(ctx context.Context, file string) (Credentials, error) {
	role := c.env(EnvRoleARN)
	if role == "" {
		return Credentials{}, fmt.Errorf("%s is set but %s is not", EnvWebIdentityToken, EnvRoleARN)
	}
	token, err := c.readFile(file)
	if err != nil {
		return Credentials{}, fmt.Errorf("reading the web identity token: %v", err)
	}
	session := firstOf(c.env(EnvRoleSessionName), defaultSessionName+"-"+fmt.Sprint(c.now().UnixNano()))
	form := url.Values{}
	form.Set("Action", "AssumeRoleWithWebIdentity")
	form.Set("Version", "2011-06-15")
	form.Set("RoleArn", role)
	form.Set("RoleSessionName", session)
	form.Set("WebIdentityToken", strings.TrimSpace(string(token)))
	region := Region(c.Env)
	endpoint := Endpoint(c.Env, "STS", "sts", region)
	ctx, cancel := context.WithTimeout(ctx, credentialsReqTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return Credentials{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	var answer struct {
		Result struct {
			Credentials stsCredentials `xml:"Credentials"`
		} `xml:"AssumeRoleWithWebIdentityResult"`
	}
	if err := c.fetchXML(req, &answer); err != nil {
		return Credentials{}, fmt.Errorf("STS AssumeRoleWithWebIdentity for %s: %v", role, err)
	}
	return fromSTS(answer.Result.Credentials)
}

func fromSTS(s stsCredentials) (Credentials, error) {
	if s.AccessKeyID == "" || s.SecretAccessKey == "" {
		return Credentials{}, errors.New("STS answered without credentials")
	}
	return Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken, Expires: s.Expiration}, nil
}

// fetchXML sends req and decodes a 200 answer into v; an STS error
// document becomes the error.
func (c *Chain) fetchXML(req *http.Request, v any) error {
	resp, err := c.client().Do(req)
	if err != nil {
		return unwrapURLError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Error"`
		}
		if xml.Unmarshal(body, &e) == nil && e.Error.Code != "" {
			return fmt.Errorf("%d %s: %s", resp.StatusCode, e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return xml.Unmarshal(body, v)
}

// endpointCredentials is the JSON the container and instance metadata
// endpoints serve.
type endpointCredentials struct {
	AccessKeyID     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	Token           string    `json:"Token"`
	Expiration      time.Time `json:"Expiration"`
}

func (e endpointCredentials) credentials() (Credentials, error) {
	if e.AccessKeyID == "" || e.SecretAccessKey == "" {
		return Credentials{}, errors.New("the endpoint answered without credentials")
	}
	return Credentials{AccessKeyID: e.AccessKeyID, SecretAccessKey: e.SecretAccessKey, SessionToken: e.Token, Expires: e.Expiration}, nil
}

// container reads credentials from the container credentials endpoint: a
// full URI (EKS Pod Identity) or a path on the ECS agent's address. Plain
// HTTP is only allowed to the local agents' addresses.
func (c *Chain) container(ctx context.Context, full, rel string) (Credentials, error) {
	target := full
	if target == "" {
		target = ecsCredentialsHost + rel
	} else if err := checkContainerURI(full); err != nil {
		return Credentials{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, credentialsReqTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Credentials{}, err
	}
	auth := c.env(EnvContainerAuth)
	if file := c.env(EnvContainerAuthFile); file != "" {
		raw, err := c.readFile(file)
		if err != nil {
			return Credentials{}, fmt.Errorf("reading the container authorization token: %v", err)
		}
		auth = strings.TrimSpace(string(raw))
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	var e endpointCredentials
	if err := c.fetchJSON(req, &e); err != nil {
		return Credentials{}, fmt.Errorf("container credentials endpoint: %v", err)
	}
	return e.credentials()
}

// checkContainerURI allows HTTPS anywhere and HTTP only to loopback or the
// EKS and ECS agents' link-local addresses.
func checkContainerURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s is not a URL", EnvContainerFullURI)
	}
	if u.Scheme == "https" {
		return nil
	}
	if u.Scheme != "http" {
		return fmt.Errorf("%s must be an http or https URL", EnvContainerFullURI)
	}
	host := u.Hostname()
	if host == "localhost" || host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s may only use plain HTTP to a loopback or container agent address", EnvContainerFullURI)
}

// instanceMetadata reads the instance role's credentials from IMDSv2.
func (c *Chain) instanceMetadata(ctx context.Context) (Credentials, error) {
	base := firstOf(strings.TrimRight(c.env(EnvIMDSEndpoint), "/"), defaultIMDSEndpoint)
	ctx, cancel := context.WithTimeout(ctx, 3*imdsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/latest/api/token", nil)
	if err != nil {
		return Credentials{}, err
	}
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "21600")
	token, err := c.fetchText(req)
	if err != nil {
		return Credentials{}, fmt.Errorf("session token: %v", err)
	}
	get := func(path string) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err == nil {
			r.Header.Set("X-aws-ec2-metadata-token", token)
		}
		return r, err
	}
	req, err = get("/latest/meta-data/iam/security-credentials/")
	if err != nil {
		return Credentials{}, err
	}
	roles, err := c.fetchText(req)
	if err != nil {
		return Credentials{}, fmt.Errorf("instance role: %v", err)
	}
	role, _, _ := strings.Cut(strings.TrimSpace(roles), "\n")
	if role == "" {
		return Credentials{}, errors.New("the instance has no IAM role")
	}
	req, err = get("/latest/meta-data/iam/security-credentials/" + url.PathEscape(role))
	if err != nil {
		return Credentials{}, err
	}
	var e endpointCredentials
	if err := c.fetchJSON(req, &e); err != nil {
		return Credentials{}, fmt.Errorf("credentials of role %s: %v", role, err)
	}
	return e.credentials()
}

// fetchText sends req and returns a 200 answer's body.
func (c *Chain) fetchText(req *http.Request) (string, error) {
	resp, err := c.client().Do(req)
	if err != nil {
		return "", unwrapURLError(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("answered %d", resp.StatusCode)
	}
	return string(body), nil
}

// fetchJSON sends req and decodes a 200 answer into v.
func (c *Chain) fetchJSON(req *http.Request, v any) error {
	body, err := c.fetchText(req)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(body), v)
}

// unwrapURLError drops the method and URL net/http puts in front of a
// transport error.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
