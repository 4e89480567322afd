package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/plugin/config"
)

const binary = "#!/bin/sh\necho plugin\n"

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

type secrets map[string]map[string][]byte

func (s secrets) GetSecret(_ context.Context, namespace, name string) (*corev1.Secret, error) {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: s[name]}, nil
}

// server serves binary, counting requests and recording the last
// Authorization header.
func server(t *testing.T, body string) (*httptest.Server, *atomic.Int32, *atomic.Value) {
	var hits atomic.Int32
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		auth.Store(r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits, &auth
}

func TestADownloadedBinaryIsVerifiedMadeExecutableAndNamedAfterThePlugin(t *testing.T) {
	srv, _, auth := server(t, binary)
	dir := t.TempDir()
	o := Options{Dir: dir, Namespace: "argo-rollouts", Secrets: secrets{"token": {"Authorization": []byte("Bearer s3cret")}}}
	item := config.Item{Name: "acme/metrics", Kind: config.KindMetricProvider, Location: srv.URL + "/bin", Sha256: strings.ToUpper(sum(binary)),
		HeadersFrom: []config.HeadersFrom{{SecretRef: config.SecretRef{Name: "token"}}}}
	got := Install(context.Background(), o, []config.Item{item})
	b, ok := got.Find(config.KindMetricProvider, "acme/metrics")
	if !ok || b.Err != nil {
		t.Fatalf("%+v %v", b, ok)
	}
	if b.Path != filepath.Join(dir, "acme", "metrics") {
		t.Errorf("path %s", b.Path)
	}
	st, err := os.Stat(b.Path)
	if err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Fatalf("stat %v %v", st, err)
	}
	if auth.Load() != "Bearer s3cret" {
		t.Errorf("Authorization header %v", auth.Load())
	}
}

func TestAWrongSha256IsRefusedAndLeavesNoBinary(t *testing.T) {
	srv, _, _ := server(t, binary)
	dir := t.TempDir()
	wrong := sum("something else")
	got := Install(context.Background(), Options{Dir: dir}, []config.Item{{Name: "acme/m", Kind: config.KindMetricProvider, Location: srv.URL, Sha256: wrong}})
	b, _ := got.Find(config.KindMetricProvider, "acme/m")
	if b.Err == nil || !strings.Contains(b.Err.Error(), "sha256") || !strings.Contains(b.Err.Error(), "acme/m") || !strings.Contains(b.Err.Error(), wrong) {
		t.Fatalf("err %v", b.Err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "acme"))
	if len(entries) != 0 {
		t.Errorf("left behind %v", entries)
	}
}

func TestABinaryWithTheExpectedSha256IsNotDownloadedAgain(t *testing.T) {
	srv, hits, _ := server(t, binary)
	dir := t.TempDir()
	items := []config.Item{{Name: "acme/m", Kind: config.KindMetricProvider, Location: srv.URL, Sha256: sum(binary)}}
	Install(context.Background(), Options{Dir: dir}, items)
	got := Install(context.Background(), Options{Dir: dir}, items) // a restart
	if b, _ := got.Find(config.KindMetricProvider, "acme/m"); b.Err != nil {
		t.Fatal(b.Err)
	}
	if hits.Load() != 1 {
		t.Errorf("downloaded %d times", hits.Load())
	}
}

func TestABinaryLargerThanTheLimitIsRefused(t *testing.T) {
	srv, _, _ := server(t, binary)
	got := Install(context.Background(), Options{Dir: t.TempDir(), MaxBytes: 4}, []config.Item{{Name: "acme/m", Kind: config.KindStep, Location: srv.URL}})
	if b, _ := got.Find(config.KindStep, "acme/m"); b.Err == nil || !strings.Contains(b.Err.Error(), "larger than 4 bytes") {
		t.Fatalf("err %v", b.Err)
	}
}

func TestAFailedDownloadNamesTheStatusButNoCredential(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	loc := strings.Replace(srv.URL, "http://", "http://user:pa55word@", 1)
	got := Install(context.Background(), Options{Dir: t.TempDir()}, []config.Item{{Name: "acme/m", Kind: config.KindMetricProvider, Location: loc}})
	b, _ := got.Find(config.KindMetricProvider, "acme/m")
	if b.Err == nil || !strings.Contains(b.Err.Error(), "404") || strings.Contains(b.Err.Error(), "pa55word") {
		t.Fatalf("err %v", b.Err)
	}
}

func TestAFileLocationIsCopied(t *testing.T) {
	src := filepath.Join(t.TempDir(), "plugin")
	if err := os.WriteFile(src, []byte(binary), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	got := Install(context.Background(), Options{Dir: dir}, []config.Item{{Name: "acme/m", Kind: config.KindTrafficRouter, Location: "file://" + src}})
	b, _ := got.Find(config.KindTrafficRouter, "acme/m")
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	data, err := os.ReadFile(b.Path)
	if err != nil || string(data) != binary {
		t.Fatalf("%q %v", data, err)
	}
}

func TestBadItemsGetTheirOwnErrorsAndDoNotStopTheOthers(t *testing.T) {
	src := filepath.Join(t.TempDir(), "plugin")
	if err := os.WriteFile(src, []byte(binary), 0o600); err != nil {
		t.Fatal(err)
	}
	items := []config.Item{
		{Name: "no-namespace", Kind: config.KindStep, Location: "file://" + src},
		{Name: "acme/ftp", Kind: config.KindStep, Location: "ftp://example.com/x"},
		{Name: "acme/short", Kind: config.KindStep, Location: "file://" + src, Sha256: "dac10cbf57633c9832a17f8c27d2ca34aa97dd3d"},
		{Name: "acme/good", Kind: config.KindStep, Location: "file://" + src},
		{Name: "acme/good", Kind: config.KindMetricProvider, Location: "file://" + src},
	}
	got := Install(context.Background(), Options{Dir: t.TempDir()}, items)
	for i, want := range []string{"<namespace>/<name>", "file:// or http(s)://", "not 64 hex digits", "", "more than once"} {
		err := got[i].Err
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("item %d: err %v, want %q", i, err, want)
		}
	}
}
