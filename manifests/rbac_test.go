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
	"analysisruns":             "create,delete,get,list,patch,watch",
	"analysisruns/finalizers":  "update",
	"experiments":              "create,delete,get,list,patch,watch",
	"analysistemplates":        "list,watch",
	"clusteranalysistemplates": "list,watch",
	"replicasets":              "create,delete,get,list,update,watch",
	"deployments":              "list,update,watch",
	"podtemplates":             "list,watch",
	"services":                 "create,delete,list,patch,watch",
	"pods":                     "list,update,watch",
	"pods/eviction":            "create",
	"secrets":                  "get,list,watch",
	"configmaps":               "get,list,watch",
	"events":                   "create,patch",
	"leases":                   "create,get,update",
	"jobs":                     "create,delete,get,list,watch",
	"ingresses":                "create,list,patch,watch",
	"virtualservices":          "list,patch,watch",
	"destinationrules":         "list,patch,watch",
	"httproutes":               "list,patch,watch",
	"grpcroutes":               "list,patch,watch",
	"tcproutes":                "list,patch,watch",
	"tlsroutes":                "list,patch,watch",
	"trafficsplits":            "create,list,patch,watch",
	"traefikservices":          "list,update,watch",
	"mappings":                 "create,delete,list,update,watch",
	"ambassadormappings":       "create,delete,list,update,watch",
	"apisixroutes":             "create,delete,list,update,watch",
	"virtualrouters":           "list,patch,watch",
	"virtualnodes":             "list,patch,watch",
	// ALB verification reads a Service's Endpoints and the
	// TargetGroupBindings of its namespace, live, as upstream does.
	"endpoints":           "get",
	"targetgroupbindings": "list",
}

// upstreamGrants is what Argo Rollouts' own ClusterRole (its install.yaml
// and its Helm chart, v1.7.2 on) grants the controller, for the resources
// Serin uses. A user who swaps the image keeps that role.
var upstreamGrants = map[string]string{
	"rollouts":                 "get,list,patch,update,watch",
	"rollouts/status":          "get,list,patch,update,watch",
	"rollouts/finalizers":      "get,list,patch,update,watch",
	"analysisruns":             "create,delete,get,list,patch,update,watch",
	"analysisruns/finalizers":  "create,delete,get,list,patch,update,watch",
	"experiments":              "create,delete,get,list,patch,update,watch",
	"analysistemplates":        "get,list,watch",
	"clusteranalysistemplates": "get,list,watch",
	"replicasets":              "create,delete,get,list,patch,update,watch",
	"deployments":              "get,list,update,watch",
	"podtemplates":             "get,list,update,watch",
	"services":                 "create,delete,get,list,patch,watch",
	"pods":                     "list,update,watch",
	"pods/eviction":            "create",
	"secrets":                  "get,list,watch",
	"configmaps":               "get,list,watch",
	"events":                   "create,patch,update",
	"leases":                   "create,get,update",
	"jobs":                     "create,delete,get,list,patch,update,watch",
	"ingresses":                "create,get,list,patch,watch",
	"virtualservices":          "get,list,patch,update,watch",
	"destinationrules":         "get,list,patch,update,watch",
	"trafficsplits":            "create,get,patch,update,watch",
	"traefikservices":          "get,update,watch",
	"mappings":                 "create,delete,get,list,update,watch",
	"ambassadormappings":       "create,delete,get,list,update,watch",
	"apisixroutes":             "get,update,watch",
	"virtualrouters":           "get,list,patch,update,watch",
	"virtualnodes":             "get,list,patch,update,watch",
	"endpoints":                "get",
	"targetgroupbindings":      "get,list",
}

// beyondUpstream lists what Serin needs that Argo Rollouts' role lacks, and
// why; the README's install section says the same to users.
var beyondUpstream = map[string]string{
	// Upstream routes through Gateway API with a plugin whose instructions
	// grant these.
	"httproutes": "list,patch,watch", "grpcroutes": "list,patch,watch",
	"tcproutes": "list,patch,watch", "tlsroutes": "list,patch,watch",
	// Serin caches TrafficSplits; upstream reads them one GET at a time.
	"trafficsplits": "list",
	// Likewise TraefikServices and ApisixRoutes, which upstream GETs.
	"traefikservices": "list",
	// Argo Rollouts' own code creates and deletes the ApisixRoutes of
	// header routes, but its role omits both verbs.
	"apisixroutes": "create,delete,list",
}

func TestTheControllerNeedsNoMoreThanArgoRolloutsRoleGrants(t *testing.T) {
	for res, verbs := range controllerGrants {
		granted := strings.Split(upstreamGrants[res], ",")
		extra := strings.Split(beyondUpstream[res], ",")
		for _, v := range strings.Split(verbs, ",") {
			if !slices.Contains(granted, v) && !slices.Contains(extra, v) {
				t.Errorf("the controller uses %s %s, which Argo Rollouts' ClusterRole does not grant", v, res)
			}
		}
	}
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
