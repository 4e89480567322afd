package manifests_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

type rbacRole struct {
	Rules []struct {
		Resources []string `json:"resources"`
		Verbs     []string `json:"verbs"`
	} `json:"rules"`
}

// grants reads a Role or ClusterRole as "resource" -> sorted verbs.
func grants(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var role rbacRole
	if err := yaml.Unmarshal(data, &role); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range role.Rules {
		for _, res := range r.Resources {
			out[res] = append(out[res], r.Verbs...)
		}
	}
	flat := map[string]string{}
	for res, verbs := range out {
		slices.Sort(verbs)
		flat[res] = strings.Join(slices.Compact(verbs), ",")
	}
	return flat
}

// controllerGrants is exactly what the controller's code asks of the API
// server (the e2e suites check that it suffices). A new client call adds its
// verb here and to both roles.
var controllerGrants = map[string]string{
	"rollouts":                 "get,list,patch,watch",
	"rollouts/status":          "patch",
	"rollouts/finalizers":      "update",
	"analysisruns":             "create,delete,list,patch,watch",
	"analysisruns/finalizers":  "update",
	"experiments":              "list,watch",
	"analysistemplates":        "list,watch",
	"clusteranalysistemplates": "list,watch",
	"replicasets":              "create,delete,list,update,watch",
	"deployments":              "list,patch,watch",
	"podtemplates":             "list,watch",
	"services":                 "list,patch,watch",
	"pods":                     "list,patch,watch",
	"pods/eviction":            "create",
	"secrets":                  "get",
	"configmaps":               "get",
	"events":                   "create,patch",
	"leases":                   "create,get,update",
	"jobs":                     "create,delete,get,list,watch",
	"ingresses":                "create,delete,list,update,watch",
	"virtualservices":          "list,update,watch",
	"destinationrules":         "list,update,watch",
	"httproutes":               "list,update,watch",
	"grpcroutes":               "list,update,watch",
	"tcproutes":                "list,update,watch",
	"tlsroutes":                "list,update,watch",
	"trafficsplits":            "create,list,update,watch",
}

func TestTheControllersRBACIsExactlyWhatItsCodeUses(t *testing.T) {
	cluster := grants(t, filepath.Join("install", "clusterrole.yaml"))
	if !maps.Equal(cluster, controllerGrants) {
		for res := range cluster {
			if cluster[res] != controllerGrants[res] {
				t.Errorf("ClusterRole grants %s: %q, want %q", res, cluster[res], controllerGrants[res])
			}
		}
		for res, want := range controllerGrants {
			if _, ok := cluster[res]; !ok {
				t.Errorf("ClusterRole lacks %s: %q", res, want)
			}
		}
	}
	// The namespaced Role is the same, without the cluster-scoped kind.
	want := maps.Clone(controllerGrants)
	delete(want, "clusteranalysistemplates")
	if ns := grants(t, filepath.Join("namespace-install", "role.yaml")); !maps.Equal(ns, want) {
		t.Errorf("namespaced Role grants %v, want %v", ns, want)
	}
}
