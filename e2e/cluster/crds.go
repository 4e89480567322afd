package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"
)

const (
	// GatewayAPIVersion is the Gateway API release whose standard-channel CRDs
	// are installed. (v1.7.0 needs Go 1.27.)
	GatewayAPIVersion = "v1.6.3"
	// IstioClientGoVersion is used when the root go.mod names no istio.io/client-go.
	IstioClientGoVersion = "v1.32.0"
	// fieldManager owns what the cluster package applies.
	fieldManager = "serin-e2e"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// moduleDir downloads module@version into the module cache and returns its directory.
func moduleDir(ctx context.Context, module, version string) (string, error) {
	tmp, err := os.MkdirTemp("", "serin-modlookup-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = tmp // outside any module, so no go.mod or go.sum is touched
	cmd.Env = goEnv("")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, GoMod, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil && err == nil {
		err = jerr
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v: %s", module, version, err, stderr.String())
	}
	return info.Dir, nil
}

// istioAPIVersion returns the istio.io/api version that the root module's
// istio.io/client-go requires.
func istioAPIVersion(ctx context.Context, repoRoot string) (string, error) {
	clientGo := IstioClientGoVersion
	if gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod")); err == nil {
		if v := requiredVersion(gomod, "istio.io/client-go"); v != "" {
			clientGo = v
		}
	}
	dir, err := moduleDir(ctx, "istio.io/client-go", clientGo)
	if err != nil {
		return "", err
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	v := requiredVersion(gomod, "istio.io/api")
	if v == "" {
		return "", fmt.Errorf("istio.io/client-go@%s does not require istio.io/api", clientGo)
	}
	return v, nil
}

// ProjectCRDFiles lists the YAML files of <repoRoot>/manifests/crds (none if
// the directory does not exist yet), without kustomization files.
func ProjectCRDFiles(repoRoot string) []string {
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		matches, _ := filepath.Glob(filepath.Join(repoRoot, "manifests", "crds", pattern))
		for _, f := range matches {
			if !strings.HasPrefix(filepath.Base(f), "kustomization.") {
				files = append(files, f)
			}
		}
	}
	sort.Strings(files)
	return files
}

// crdFiles lists the manifests to apply: the argoproj.io CRDs (the
// project's own unless skipped or replaced), Istio's CRDs and the Gateway
// API standard CRDs.
func crdFiles(ctx context.Context, repoRoot string, opts Options) ([]string, error) {
	var files []string
	switch {
	case opts.ArgoCRDDir != "":
		matches, err := filepath.Glob(filepath.Join(opts.ArgoCRDDir, "*.yaml"))
		if err != nil || len(matches) == 0 {
			return nil, fmt.Errorf("no CRDs in %s", opts.ArgoCRDDir)
		}
		sort.Strings(matches)
		files = matches
	case !opts.SkipProjectCRDs:
		files = ProjectCRDFiles(repoRoot)
	}

	istioAPI, err := istioAPIVersion(ctx, repoRoot)
	if err != nil {
		return nil, err
	}
	dir, err := moduleDir(ctx, "istio.io/api", istioAPI)
	if err != nil {
		return nil, err
	}
	files = append(files, filepath.Join(dir, "kubernetes", "customresourcedefinitions.gen.yaml"))

	dir, err = moduleDir(ctx, "sigs.k8s.io/gateway-api", GatewayAPIVersion)
	if err != nil {
		return nil, err
	}
	gw, err := filepath.Glob(filepath.Join(dir, "config", "crd", "standard", "*.yaml"))
	if err != nil || len(gw) == 0 {
		return nil, fmt.Errorf("no Gateway API CRDs under %s", dir)
	}
	sort.Strings(gw)
	return append(files, gw...), nil
}

// readObjects parses every non-empty YAML document of the files.
func readObjects(files []string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, doc := range docSeparator.Split(string(data), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if av, _ := m["apiVersion"].(string); len(m) == 0 || strings.HasPrefix(av, "kustomize.config.k8s.io/") {
				continue
			}
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
	return objs, nil
}

// ApplyFiles server-side applies every object of the YAML files, as ApplyObjects.
func ApplyFiles(ctx context.Context, cfg *rest.Config, files ...string) error {
	objs, err := readObjects(files)
	if err != nil {
		return err
	}
	return ApplyObjects(ctx, cfg, objs)
}

// ApplyObjects server-side applies the objects: the CustomResourceDefinitions
// first, a few at a time, then, once every one of them is Established, the
// other objects in order.
func ApplyObjects(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	var crds, others []*unstructured.Unstructured
	var names []string
	for _, obj := range objs {
		if obj.GroupVersionKind().GroupKind() == (schema.GroupKind{Group: crdGVR.Group, Kind: "CustomResourceDefinition"}) {
			crds = append(crds, obj)
			names = append(names, obj.GetName())
		} else {
			others = append(others, obj)
		}
	}

	g, gctx := newGroup(ctx)
	sem := make(chan struct{}, 4)
	for _, crd := range crds {
		g.Go(func() error {
			sem <- struct{}{}
			defer func() { <-sem }()
			return applyObject(gctx, dyn.Resource(crdGVR), crd)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := waitEstablished(ctx, dyn, names); err != nil {
		return err
	}
	if len(others) == 0 {
		return nil
	}

	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	for _, obj := range others {
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := obj.GetNamespace()
			if ns == "" {
				ns = "default"
			}
			ri = dyn.Resource(mapping.Resource).Namespace(ns)
		}
		if err := applyObject(ctx, ri, obj); err != nil {
			return err
		}
	}
	return nil
}

// applyObject server-side applies obj, taking ownership of every field.
func applyObject(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured) error {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	force := true
	_, err = ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: fieldManager, Force: &force})
	if err != nil {
		return fmt.Errorf("applying %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// waitEstablished waits until every named CRD has condition Established=True.
func waitEstablished(ctx context.Context, dyn dynamic.Interface, names []string) error {
	for {
		list, err := dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
		var pending []string
		if err == nil {
			ok := map[string]bool{}
			for i := range list.Items {
				ok[list.Items[i].GetName()] = established(&list.Items[i])
			}
			for _, name := range names {
				if !ok[name] {
					pending = append(pending, name)
				}
			}
			if len(pending) == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CRDs not established (%s): %w", strings.Join(pending, ", "), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
