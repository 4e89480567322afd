package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// The kwok fake kubelet is driven by Stage objects: a stage matches objects
// with jq expressions and moves them to a new status, optionally after a delay
// that a jq expression computes. Start generates a stage file from the fast
// stages the kwok module ships, with these changes so that tests can express
// failure the way Argo Rollouts' end-to-end tests do:
//
//   - broken pods: a container whose command starts with /bad, or whose image
//     starts with "nonexistent", goes Running but never Ready (CrashLoopBackOff);
//   - job scripts: a Job pod running `sh -c "sleep N && exit C"` finishes after
//     N seconds, Succeeded when C is 0 and Failed with exit code 1 otherwise;
//   - readiness delay: a pod turns Ready only after the largest
//     readinessProbe.initialDelaySeconds of its containers.
const (
	// jqBroken is "true" for a pod that must never become ready.
	jqBroken = `[.spec.containers[] | ` +
		`((((.command // [])[0] // "") | startswith("/bad")) or ((.image // "") | startswith("nonexistent")))` +
		`] | any`
	// jqScript is the pod's command lines joined into one string.
	jqScript = `[.spec.containers[] | ((.command // []) + (.args // [])) | join(" ")] | join(" ")`
	// jqExitsNonZero is "true" when the script ends with a non-zero exit.
	jqExitsNonZero = `(` + jqScript + `) | test("exit +[1-9]")`
	// jqSleep is the script's sleep, as a Go duration ("0s" when none).
	jqSleep = `((` + jqScript + `) | (capture("sleep +(?<secs>[0-9]+)").secs // "0")) + "s"`
	// jqReadyDelay is the largest readinessProbe.initialDelaySeconds, as a Go duration.
	jqReadyDelay = `([.spec.containers[] | (.readinessProbe.initialDelaySeconds // 0)] | max | tostring) + "s"`
)

// brokenPodStatus is the status a broken pod gets: running, never ready.
const brokenPodStatus = `{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  type: Ready
  reason: ContainersNotReady
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  type: ContainersReady
  reason: ContainersNotReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: false
  restartCount: 1
  state:
    waiting:
      reason: CrashLoopBackOff
      message: "serin e2e: emulated crash of a broken container"
{{ end }}
{{ with NodeIPsWith .spec.nodeName }}
hostIP: {{ index . 0 | Quote }}
{{ end }}
{{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ index . 0 | Quote }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
`

type stage = map[string]any

// kwokStages builds the stage file from the kwok module at modDir.
func kwokStages(modDir string) ([]byte, error) {
	base := filepath.Join(modDir, "kustomize", "stage")
	nodes, err := readStages(filepath.Join(base, "node", "fast", "*.yaml"))
	if err != nil {
		return nil, err
	}
	pods, err := readStages(filepath.Join(base, "pod", "fast", "pod-*.yaml"))
	if err != nil {
		return nil, err
	}
	byName := map[string]stage{}
	for _, s := range pods {
		byName[stageName(s)] = s
	}
	ready, complete := byName["pod-ready"], byName["pod-complete"]
	if ready == nil || complete == nil || len(nodes) == 0 {
		return nil, fmt.Errorf("kwok stages under %s lack node stages, pod-ready or pod-complete", base)
	}

	// Ready: not for broken pods, and after the readiness probe's initial delay.
	addMatch(ready, jqBroken, "NotIn")
	setDelayFrom(ready, jqReadyDelay)
	broken := cloneStage(ready)
	setName(broken, "pod-broken")
	lastMatch(broken)["operator"] = "In"
	next(broken)["statusTemplate"] = brokenPodStatus

	// Complete: only for scripts that exit 0, after the script's sleep.
	addMatch(complete, jqExitsNonZero, "NotIn")
	setDelayFrom(complete, jqSleep)
	failed := cloneStage(complete)
	setName(failed, "pod-job-failed")
	lastMatch(failed)["operator"] = "In"
	tmpl, _ := next(complete)["statusTemplate"].(string)
	for _, r := range [][2]string{{"exitCode: 0", "exitCode: 1"}, {"reason: Completed", "reason: Error"}, {"phase: Succeeded", "phase: Failed"}} {
		if !strings.Contains(tmpl, r[0]) {
			return nil, fmt.Errorf("kwok pod-complete stage: status template has no %q", r[0])
		}
		tmpl = strings.ReplaceAll(tmpl, r[0], r[1])
	}
	next(failed)["statusTemplate"] = tmpl

	all := append(nodes, pods...)
	all = append(all, broken, failed)
	var out bytes.Buffer
	for i, s := range all {
		if i > 0 {
			out.WriteString("---\n")
		}
		data, err := yaml.Marshal(s)
		if err != nil {
			return nil, err
		}
		out.Write(data)
	}
	return out.Bytes(), nil
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// readStages reads every Stage document of the files matching pattern, in
// file-name order.
func readStages(pattern string) ([]stage, error) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var stages []stage
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s, err := parseStages(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		stages = append(stages, s...)
	}
	return stages, nil
}

// parseStages returns the Stage documents of a multi-document YAML file.
func parseStages(data []byte) ([]stage, error) {
	var stages []stage
	for _, doc := range docSeparator.Split(string(data), -1) {
		var s stage
		if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
			return nil, err
		}
		if s["kind"] == "Stage" {
			stages = append(stages, s)
		}
	}
	return stages, nil
}

func stageName(s stage) string {
	md, _ := s["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	return name
}

func setName(s stage, name string) { s["metadata"] = map[string]any{"name": name} }

func spec(s stage) map[string]any {
	sp, _ := s["spec"].(map[string]any)
	if sp == nil {
		sp = map[string]any{}
		s["spec"] = sp
	}
	return sp
}

func next(s stage) map[string]any {
	n, _ := spec(s)["next"].(map[string]any)
	if n == nil {
		n = map[string]any{}
		spec(s)["next"] = n
	}
	return n
}

func matches(s stage) []any {
	sel, _ := spec(s)["selector"].(map[string]any)
	if sel == nil {
		sel = map[string]any{}
		spec(s)["selector"] = sel
	}
	m, _ := sel["matchExpressions"].([]any)
	return m
}

// addMatch appends a selector expression whose result must (In) or must not
// (NotIn) be "true".
func addMatch(s stage, key, op string) {
	sel := spec(s)["selector"].(map[string]any)
	sel["matchExpressions"] = append(matches(s), map[string]any{"key": key, "operator": op, "values": []any{"true"}})
}

func lastMatch(s stage) map[string]any {
	m := matches(s)
	return m[len(m)-1].(map[string]any)
}

func setDelayFrom(s stage, expr string) {
	spec(s)["delay"] = map[string]any{"durationMilliseconds": 0, "durationFrom": map[string]any{"expressionFrom": expr}}
}

// cloneStage deep-copies a stage through JSON.
func cloneStage(s stage) stage {
	data, _ := json.Marshal(s)
	var c stage
	_ = json.Unmarshal(data, &c)
	return c
}
