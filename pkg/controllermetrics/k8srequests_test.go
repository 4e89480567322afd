package controllermetrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
)

// Requests made through a real client, against a server that answers 200
// (or 404 for one name), are counted with Argo Rollouts' labels.
func TestEveryKubernetesRequestIsCountedWithItsKindNameVerbAndCode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
			return
		}
		_, _ = w.Write([]byte(`{"kind":"Service","apiVersion":"v1","metadata":{"name":"x"}}`))
	}))
	defer srv.Close()
	m := New("test")
	cfg := &rest.Config{Host: srv.URL}
	cfg.Wrap(m.WrapTransport)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svcs := kube.CoreV1().Services("shop")
	_, _ = svcs.Get(ctx, "web", metav1.GetOptions{})
	_, _ = svcs.Get(ctx, "missing", metav1.GetOptions{})
	_, _ = svcs.Patch(ctx, "web", types.MergePatchType, []byte(`{}`), metav1.PatchOptions{})
	_, _ = svcs.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "new"}}, metav1.CreateOptions{})
	_, _ = kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	_ = kube.AppsV1().ReplicaSets("shop").Delete(ctx, "old", metav1.DeleteOptions{})
	_, _ = kube.CoreV1().Events("shop").Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web.18a2b"}}, metav1.CreateOptions{})
	// Serin's own kinds travel as JSON.
	argo, err := versioned.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = argo.ArgoprojV1alpha1().AnalysisRuns("shop").Create(ctx, &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "run-1"}}, metav1.CreateOptions{})

	want := `
# HELP controller_clientset_k8s_request_total Number of requests to the Kubernetes API server, by resource kind, namespace, name, verb and response code.
# TYPE controller_clientset_k8s_request_total counter
controller_clientset_k8s_request_total{kind="analysisruns",name="run-1",namespace="shop",status_code="200",verb="Create"} 1
controller_clientset_k8s_request_total{kind="events",name="N/A",namespace="shop",status_code="200",verb="Create"} 1
controller_clientset_k8s_request_total{kind="replicasets",name="N/A",namespace="shop",status_code="200",verb="Delete"} 1
controller_clientset_k8s_request_total{kind="services",name="N/A",namespace="",status_code="200",verb="List"} 1
controller_clientset_k8s_request_total{kind="services",name="missing",namespace="shop",status_code="404",verb="Get"} 1
controller_clientset_k8s_request_total{kind="services",name="new",namespace="shop",status_code="200",verb="Create"} 1
controller_clientset_k8s_request_total{kind="services",name="web",namespace="shop",status_code="200",verb="Get"} 1
controller_clientset_k8s_request_total{kind="services",name="web",namespace="shop",status_code="200",verb="Patch"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "controller_clientset_k8s_request_total"); err != nil {
		t.Fatal(err)
	}
}

func TestARequestPathIsReadForTheStatusSubresourceAndWatches(t *testing.T) {
	for _, c := range []struct {
		method, url string
		want        k8sRequest
	}{
		{"PATCH", "https://k/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/demo/status", k8sRequest{"rollouts", "shop", "demo", "Patch"}},
		{"GET", "https://k/apis/argoproj.io/v1alpha1/rollouts?watch=true", k8sRequest{"rollouts", "", "", "Watch"}},
		{"GET", "https://k/api/v1/namespaces/shop/secrets?watch=true&fieldSelector=metadata.name%3Ddb", k8sRequest{"secrets", "shop", "db", "Watch"}},
		{"GET", "https://k/api/v1/namespaces/shop", k8sRequest{"namespaces", "", "shop", "Get"}},
		{"GET", "https://k/version", k8sRequest{"Unknown", "Unknown", "Unknown", "Unknown"}},
		{"GET", "https://k/apis/apps/v1/namespaces/shop/replicasets", k8sRequest{"replicasets", "shop", "N/A", "List"}},
		{"PUT", "https://k/apis/apps/v1/namespaces/shop/replicasets/web-1", k8sRequest{"replicasets", "shop", "N/A", "Update"}},
	} {
		r, _ := http.NewRequest(c.method, c.url, nil)
		if got := describeRequest(r); got != c.want {
			t.Errorf("%s %s = %+v, want %+v", c.method, c.url, got, c.want)
		}
	}
}
