package framework

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/yaml"
)

// apiUse collects, from the controller's controller_clientset_k8s_request_total,
// which resources it sent which verbs to, across every controller process of
// the run, so that the install's RBAC can be checked against what the code
// really does.
type apiUse struct {
	mu   sync.Mutex
	seen map[string]map[string]bool // resource -> RBAC verb
}

// scrape reads the request counter of the controller serving metrics on port.
func (u *apiUse) scrape(port int) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return
	}
	defer resp.Body.Close()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[string]map[string]bool{}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "controller_clientset_k8s_request_total{") {
			continue
		}
		kind, verb := label(line, "kind"), rbacVerb(label(line, "verb"))
		if kind == "" || verb == "" {
			continue
		}
		if u.seen[kind] == nil {
			u.seen[kind] = map[string]bool{}
		}
		u.seen[kind][verb] = true
	}
}

// label reads one label's value from an exposition line.
func label(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(name)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

// rbacVerb is the RBAC verb of the request counter's verb.
func rbacVerb(v string) string {
	switch v {
	case "List", "Watch", "Get", "Create", "Update", "Patch", "Delete":
		return strings.ToLower(v)
	}
	return ""
}

// clusterRole is the part of an RBAC ClusterRole manifest read here.
type clusterRole struct {
	Rules []struct {
		Resources []string `json:"resources"`
		Verbs     []string `json:"verbs"`
	} `json:"rules"`
}

// check reports every resource and verb the controller used that the
// install's ClusterRole does not grant.
func (u *apiUse) check(root string) error {
	data, err := os.ReadFile(filepath.Join(root, "manifests", "install", "clusterrole.yaml"))
	if err != nil {
		return err
	}
	var role clusterRole
	if err := yaml.Unmarshal(data, &role); err != nil {
		return err
	}
	granted := func(resource, verb string) bool {
		for _, r := range role.Rules {
			if slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var missing []string
	for resource, verbs := range u.seen {
		for verb := range verbs {
			// Evictions are posted to pods/eviction; the counter files them under pods.
			if resource == "pods" && verb == "create" && granted("pods/eviction", "create") {
				continue
			}
			if !granted(resource, verb) {
				missing = append(missing, verb+" "+resource)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		return fmt.Errorf("the controller sent requests its install ClusterRole does not allow: %s", strings.Join(missing, ", "))
	}
	return nil
}
