package notify

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/notifications-engine/pkg/services"
	"github.com/go-logr/logr/funcr"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

func run(name, hash, revision string, created time.Time, message string) *v1alpha1.AnalysisRun {
	return &v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, CreationTimestamp: metav1.NewTime(created),
			Labels:      map[string]string{v1alpha1.LabelPodTemplateHash: hash},
			Annotations: map[string]string{v1alpha1.AnnotationRevision: revision}},
		Status: v1alpha1.AnalysisRunStatus{Message: message},
	}
}

// analysisRuns holds the runs of the Rollout's current pod template and
// revision only, newest first, as plain JSON values.
func TestAnalysisRunsAreTheCurrentRevisionsNewestFirst(t *testing.T) {
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, r := range []*v1alpha1.AnalysisRun{
		run("old", "abc", "2", fixedNow.Add(-time.Hour), "older"),
		run("new", "abc", "2", fixedNow, "newer"),
		run("other-hash", "def", "2", fixedNow, "x"),
		run("other-revision", "abc", "1", fixedNow, "x"),
	} {
		if err := indexer.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	ro := rollout("shop", "web", map[string]string{v1alpha1.AnnotationRevision: "2"})
	ro.Status.CurrentPodHash = "abc"
	obj, err := objectMap(ro)
	if err != nil {
		t.Fatal(err)
	}
	vars := settings(rolloutlisters.NewAnalysisRunLister(indexer), func() time.Time { return fixedNow })
	getVars, err := vars.InitGetVars(nil, &corev1.ConfigMap{}, &corev1.Secret{Data: map[string][]byte{"k": []byte("v")}})
	if err != nil {
		t.Fatal(err)
	}
	got := getVars(obj, services.Destination{})
	runs, _ := got["analysisRuns"].([]any)
	var messages []string
	for _, r := range runs {
		messages = append(messages, r.(map[string]any)["status"].(map[string]any)["message"].(string))
	}
	if strings.Join(messages, ",") != "newer,older" {
		t.Errorf("analysisRuns messages %v, want [newer older]", messages)
	}
	if got["rollout"].(map[string]any)["metadata"].(map[string]any)["name"] != "web" {
		t.Errorf("rollout variable %v", got["rollout"])
	}
	if string(got["secrets"].(map[string][]byte)["k"]) != "v" {
		t.Errorf("secrets variable %v", got["secrets"])
	}
	clock := got["time"].(map[string]any)
	if now := clock["Now"].(func() time.Time)(); !now.Equal(fixedNow) {
		t.Errorf("time.Now() = %v, want the injected clock", now)
	}
	if _, err := clock["Parse"].(func(string) (time.Time, error))("yesterday"); err == nil {
		t.Error("time.Parse accepted a time that is not RFC 3339")
	}
}

// What the engine logs through logrus reaches our logger with the Secret's
// values redacted, in the message and in the fields.
func TestEngineLogsAreRoutedAndRedacted(t *testing.T) {
	store := cache.NewStore(cache.MetaNamespaceKeyFunc)
	if err := store.Add(secret(controllerNS)); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	RouteEngineLogs(funcr.New(func(prefix, args string) { logs.add(prefix + " " + args) }, funcr.Options{Verbosity: 4}), NewRedactor(store))
	logrus.WithField("url", "https://example.com/"+secretToken).Errorf("request with Bearer %s failed", secretToken)
	logrus.Debugf("Sending request: token=%s", secretToken)
	out := logs.String()
	if strings.Contains(out, secretToken) || strings.Count(out, Redacted) != 3 {
		t.Errorf("engine logs not redacted:\n%s", out)
	}
	if !strings.Contains(out, "failed") || !strings.Contains(out, "Sending request") {
		t.Errorf("engine logs did not reach the logger:\n%s", out)
	}
}

// The retrying HTTP client of the engine's webhook service logs each
// request's URL through its own logger; a Secret's value in the URL, as
// written or URL-encoded, never reaches the log.
func TestWebhookClientLogsAreRoutedAndRedacted(t *testing.T) {
	store := cache.NewStore(cache.MetaNamespaceKeyFunc)
	if err := store.Add(secret(controllerNS)); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	RouteEngineLogs(funcr.New(func(prefix, args string) { logs.add(prefix + " " + args) }, funcr.Options{Verbosity: 4}), NewRedactor(store))
	client := retryablehttp.NewClient()
	client.RetryMax = 0
	req, err := retryablehttp.NewRequest("POST", "http://127.0.0.1:9/hooks/"+secretToken+"?k="+url.QueryEscape(secretToken+" x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Do(req); err == nil {
		t.Fatal("a request to a closed port succeeded")
	}
	out := logs.String()
	if !strings.Contains(out, "/hooks/") {
		t.Fatalf("the client's log did not reach the logger:\n%s", out)
	}
	if strings.Contains(out, secretToken) || strings.Contains(out, url.QueryEscape(secretToken)) {
		t.Errorf("the client's log shows the secret:\n%s", out)
	}
}
