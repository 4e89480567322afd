// Package sigv4 signs HTTP requests to AWS APIs with Signature Version 4
// and finds the credentials to sign with, using the standard library only.
// The CloudWatch metric provider and the Prometheus provider (for Amazon
// Managed Service for Prometheus) both sign with it.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	dateLayout = "20060102"
	timeLayout = "20060102T150405Z"
)

// Credentials are an AWS access key, with the session token of temporary
// credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Expires is when temporary credentials stop working; zero for
	// long-term keys.
	Expires time.Time
}

// unsigned are headers left out of the signature: they are added or
// changed on the way (proxies, tracing, the transport itself).
var unsigned = map[string]bool{
	"authorization":     true,
	"user-agent":        true,
	"x-amzn-trace-id":   true,
	"expect":            true,
	"connection":        true,
	"content-length":    true,
	"transfer-encoding": true,
}

// Sign adds X-Amz-Date, X-Amz-Security-Token (for temporary credentials)
// and Authorization to req, signing its method, path, query, headers and
// payload for the given region and service at the given time. payload must
// be the exact body req sends (nil for none).
func Sign(req *http.Request, payload []byte, creds Credentials, region, service string, at time.Time) error {
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return errors.New("sigv4: incomplete credentials")
	}
	at = at.UTC()
	req.Header.Set("X-Amz-Date", at.Format(timeLayout))
	if creds.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", creds.SessionToken)
	}
	canonical, signedHeaders := canonicalRequest(req, payloadHash(payload))
	scope := credentialScope(at, region, service)
	toSign := stringToSign(at, scope, canonical)
	key := signingKey(creds.SecretAccessKey, at, region, service)
	signature := hex.EncodeToString(hmacSHA256(key, []byte(toSign)))
	req.Header.Set("Authorization", algorithm+" Credential="+creds.AccessKeyID+"/"+scope+
		", SignedHeaders="+signedHeaders+", Signature="+signature)
	return nil
}

// payloadHash is the hex SHA-256 of the body.
func payloadHash(payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

// canonicalRequest is the request in SigV4's canonical form, with the list
// of headers it covers.
func canonicalRequest(req *http.Request, bodyHash string) (string, string) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	values := map[string][]string{"host": {host}}
	for name, vs := range req.Header {
		lower := strings.ToLower(name)
		if unsigned[lower] || lower == "host" {
			continue
		}
		values[lower] = append(values[lower], vs...)
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	var headers strings.Builder
	for _, name := range names {
		trimmed := make([]string, len(values[name]))
		for i, v := range values[name] {
			trimmed[i] = strings.Join(strings.Fields(v), " ")
		}
		headers.WriteString(name + ":" + strings.Join(trimmed, ",") + "\n")
	}
	signedHeaders := strings.Join(names, ";")
	return strings.Join([]string{
		req.Method,
		canonicalPath(req.URL),
		canonicalQuery(req.URL.RawQuery),
		headers.String(),
		signedHeaders,
		bodyHash,
	}, "\n"), signedHeaders
}

// canonicalPath is the URI-encoded path, "/" when empty. Services other
// than S3 sign the path encoded once more, which is what encoding the
// already escaped path does.
func canonicalPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segments := strings.Split(p, "/")
	for i, s := range segments {
		segments[i] = encode(s)
	}
	return strings.Join(segments, "/")
}

// canonicalQuery sorts the query parameters by name, then value, each
// encoded as SigV4 wants.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		uk, err := url.QueryUnescape(k)
		if err != nil {
			uk = k
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			uv = v
		}
		pairs = append(pairs, pair{encode(uk), encode(uv)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// encode percent-encodes every byte except the unreserved characters of
// RFC 3986, with upper-case hex digits.
func encode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// credentialScope is date/region/service/aws4_request.
func credentialScope(at time.Time, region, service string) string {
	return at.Format(dateLayout) + "/" + region + "/" + service + "/aws4_request"
}

// stringToSign binds the canonical request to the time and scope.
func stringToSign(at time.Time, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + at.Format(timeLayout) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives the day's key for one region and service from the
// secret access key.
func signingKey(secret string, at time.Time, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(at.Format(dateLayout)))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}
