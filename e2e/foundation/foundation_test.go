package foundation

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/internal/manifesttest"
	"github.com/serin-dev/serin/internal/testpaths"
)

func TestInstallManifestsApplyServerSide(t *testing.T) {
	f := framework.New(t)
	root := testpaths.RepoRoot(t)
	for _, dir := range []string{"manifests/crds", "manifests/install", "manifests/namespace-install"} {
		out, err := f.Env.Cluster.Kubectl(t.Context(), "apply", "--server-side", "--force-conflicts", "-k", filepath.Join(root, dir))
		if err != nil {
			t.Fatalf("kubectl apply --server-side -k %s: %v\n%s", dir, err, out)
		}
	}
	kube := f.Env.Kube
	if _, err := kube.AppsV1().Deployments("argo-rollouts").Get(t.Context(), "serin-controller", metav1.GetOptions{}); err != nil {
		t.Fatalf("the controller Deployment was not created: %v", err)
	}
	if _, err := kube.RbacV1().ClusterRoles().Get(t.Context(), "serin-controller", metav1.GetOptions{}); err != nil {
		t.Fatalf("the ClusterRole was not created: %v", err)
	}
	if _, err := kube.RbacV1().Roles("argo-rollouts").Get(t.Context(), "serin-controller", metav1.GetOptions{}); err != nil {
		t.Fatalf("the namespaced Role was not created: %v", err)
	}
	if _, err := kube.CoreV1().Services("argo-rollouts").Get(t.Context(), "argo-rollouts-metrics", metav1.GetOptions{}); err != nil {
		t.Fatalf("the metrics Service was not created: %v", err)
	}
	// Only what a least-privilege controller needs: Secrets are read one by
	// one, or watched by name (the notification Secret); never written.
	role, _ := kube.RbacV1().ClusterRoles().Get(t.Context(), "serin-controller", metav1.GetOptions{})
	for _, rule := range role.Rules {
		for _, res := range rule.Resources {
			if res == "secrets" && strings.Join(rule.Verbs, ",") != "get,list,watch" {
				t.Errorf("the ClusterRole grants %v on Secrets, want get, list and watch only", rule.Verbs)
			}
		}
	}
}

// TestAnInstallUnderArgoRolloutsNamesKeepsTheirNamesAndLabels applies the
// install variant that keeps Argo Rollouts' names, so that ServiceMonitors,
// NetworkPolicies and dashboards written for it keep matching.
func TestAnInstallUnderArgoRolloutsNamesKeepsTheirNamesAndLabels(t *testing.T) {
	f := framework.New(t)
	root := testpaths.RepoRoot(t)
	out, err := f.Env.Cluster.Kubectl(t.Context(), "apply", "--server-side", "--force-conflicts", "-k", filepath.Join(root, "manifests/install-upstream-names"))
	if err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	kube := f.Env.Kube
	dep, err := kube.AppsV1().Deployments("argo-rollouts").Get(t.Context(), "argo-rollouts", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("no Deployment argo-rollouts: %v", err)
	}
	if dep.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != "argo-rollouts" || dep.Spec.Template.Spec.ServiceAccountName != "argo-rollouts" {
		t.Fatalf("Deployment selector %v, service account %q", dep.Spec.Selector.MatchLabels, dep.Spec.Template.Spec.ServiceAccountName)
	}
	svc, err := kube.CoreV1().Services("argo-rollouts").Get(t.Context(), "argo-rollouts-metrics", metav1.GetOptions{})
	if err != nil || svc.Spec.Selector["app.kubernetes.io/name"] != "argo-rollouts" || svc.Labels["app.kubernetes.io/name"] != "argo-rollouts-metrics" {
		t.Fatalf("metrics Service %+v, %v", svc, err)
	}
	binding, err := kube.RbacV1().ClusterRoleBindings().Get(t.Context(), "argo-rollouts", metav1.GetOptions{})
	if err != nil || binding.RoleRef.Name != "argo-rollouts" || binding.Subjects[0].Name != "argo-rollouts" {
		t.Fatalf("ClusterRoleBinding %+v, %v", binding, err)
	}
}

// TestUsersBoundToEditMayPromoteAndViewersMayNot checks the aggregated
// ClusterRoles: `kubectl argo rollouts promote` patches a Rollout's status.
func TestUsersBoundToEditMayPromoteAndViewersMayNot(t *testing.T) {
	f := framework.New(t)
	root := testpaths.RepoRoot(t)
	if out, err := f.Env.Cluster.Kubectl(t.Context(), "apply", "--server-side", "--force-conflicts", "-f", filepath.Join(root, "manifests/install/aggregate-roles.yaml")); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	kube := f.Env.Kube
	for user, role := range map[string]string{"alice": "edit", "bob": "view"} {
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: f.Namespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}},
		}
		if _, err := kube.RbacV1().RoleBindings(f.Namespace).Create(t.Context(), rb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	allowed := func(user, verb, subresource string) bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: f.Namespace, Verb: verb, Group: "argoproj.io", Resource: "rollouts", Subresource: subresource}}}
		got, err := kube.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{})
		return err == nil && got.Status.Allowed
	}
	// The ClusterRole aggregation controller fills edit and view in shortly.
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, framework.DefaultTimeout, true, func(context.Context) (bool, error) {
		return allowed("alice", "patch", "status") && allowed("bob", "get", ""), nil
	})
	if err != nil {
		t.Fatalf("edit may patch rollouts/status: %v; view may get rollouts: %v", allowed("alice", "patch", "status"), allowed("bob", "get", ""))
	}
	if allowed("bob", "patch", "status") {
		t.Fatal("a user bound to view may patch rollouts/status")
	}
}

// kinds maps the argoproj.io kinds to their resources and scope.
var kinds = map[string]struct {
	resource   string
	namespaced bool
}{
	"Rollout":                 {"rollouts", true},
	"AnalysisTemplate":        {"analysistemplates", true},
	"ClusterAnalysisTemplate": {"clusteranalysistemplates", false},
	"AnalysisRun":             {"analysisruns", true},
	"Experiment":              {"experiments", true},
}

// TestUpstreamExamplesAreAcceptedUnpruned creates every argoproj.io object of
// Argo Rollouts' example manifests through the API server and reads it back:
// nothing may be rejected and no field may be pruned.
func TestUpstreamExamplesAreAcceptedUnpruned(t *testing.T) {
	dir := testpaths.Shared(t, "conformance", "upstream-examples")
	f := framework.New(t)
	objs, err := manifesttest.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for i, o := range objs {
		if o.Err != nil || !strings.HasPrefix(o.APIVersion, "argoproj.io/") {
			continue
		}
		k, ok := kinds[o.Kind]
		if !ok {
			t.Errorf("%s: unknown kind", o)
			continue
		}
		u := &unstructured.Unstructured{}
		if err := json.Unmarshal(o.JSON, &u.Object); err != nil {
			t.Fatal(err)
		}
		gvr := schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: k.resource}
		client := f.Env.Cluster.Dynamic().Resource(gvr)
		var got *unstructured.Unstructured
		// Names repeat across example files; keep each object apart.
		u.SetName(fmt.Sprintf("%s-%d", u.GetName(), i))
		if k.namespaced {
			u.SetNamespace(f.Namespace)
			got, err = client.Namespace(f.Namespace).Create(t.Context(), u, metav1.CreateOptions{FieldValidation: "Strict"})
		} else {
			u.SetName(f.Namespace + "-" + u.GetName())
			got, err = client.Create(t.Context(), u, metav1.CreateOptions{FieldValidation: "Strict"})
			if err == nil {
				t.Cleanup(func() { client.Delete(t.Context(), u.GetName(), metav1.DeleteOptions{}) })
			}
		}
		if err != nil {
			t.Errorf("%s was rejected: %v", o, err)
			continue
		}
		created++
		original, _ := json.Marshal(withoutMetadata(u.Object))
		stored, _ := json.Marshal(withoutMetadata(got.Object))
		lost, err := manifesttest.Lost(original, stored)
		if err != nil {
			t.Fatal(err)
		}
		if len(lost) > 0 {
			t.Errorf("%s lost fields when stored:\n  %s", o, strings.Join(lost, "\n  "))
		}
	}
	if created < 20 {
		t.Fatalf("only %d upstream objects were created; the corpus was not read", created)
	}
}

func withoutMetadata(obj map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		if k != "metadata" {
			out[k] = v
		}
	}
	return out
}
