package templates

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// RunName is the name of an AnalysisRun a Rollout starts for a revision:
// <rollout>-<pod template hash>-<revision>, followed by "-<suffix>" when
// suffix is set (the step index, "pre" or "post"; background runs have
// none).
func RunName(rollout, podHash, revision, suffix string) string {
	name := rollout + "-" + podHash + "-" + revision
	if suffix != "" {
		name += "-" + suffix
	}
	return name
}

// CollisionName is the n-th alternative name tried when a run of the
// same name exists that is not ours: <name>.<n>.
func CollisionName(name string, n int) string {
	return name + "." + strconv.Itoa(n)
}

// Labels of a Rollout's AnalysisRun: its pod template hash, its type and,
// for step runs, the step index, plus the controller instance id when set.
func Labels(rolloutType, podHash, instanceID string, stepIndex *int32) map[string]string {
	l := map[string]string{
		v1alpha1.LabelPodTemplateHash: podHash,
		v1alpha1.LabelRolloutType:     rolloutType,
	}
	if stepIndex != nil {
		l[v1alpha1.LabelStepIndex] = strconv.Itoa(int(*stepIndex))
	}
	if instanceID != "" {
		l[v1alpha1.LabelControllerInstanceID] = instanceID
	}
	return l
}

// SameSpec reports whether two run specs measure the same thing: their
// metrics, arguments, dry-run and retention rules are equal. A run that is
// found under the name a new one would take is reused when this holds.
func SameSpec(a, b v1alpha1.AnalysisRunSpec) bool {
	key := func(s v1alpha1.AnalysisRunSpec) string {
		data, _ := json.Marshal(v1alpha1.AnalysisRunSpec{Metrics: s.Metrics, Args: s.Args, DryRun: s.DryRun, MeasurementRetention: s.MeasurementRetention})
		return string(data)
	}
	return key(a) == key(b)
}

// RolloutArgs turns a Rollout's analysis arguments into run arguments:
// literal values, the stable or latest pod template hash, or a field of the
// Rollout (metadata.labels['app'], spec.replicas, ...). A field path that
// does not exist is an error; a missing label or annotation is empty.
func RolloutArgs(args []v1alpha1.AnalysisRunArgument, ro *v1alpha1.Rollout, stableHash, latestHash string) ([]v1alpha1.Argument, error) {
	out := make([]v1alpha1.Argument, 0, len(args))
	for _, a := range args {
		value := a.Value
		if from := a.ValueFrom; from != nil {
			switch {
			case from.PodTemplateHashValue != nil && *from.PodTemplateHashValue == v1alpha1.Stable:
				value = stableHash
			case from.PodTemplateHashValue != nil && *from.PodTemplateHashValue == v1alpha1.Latest:
				value = latestHash
			case from.FieldRef != nil:
				v, err := FieldValue(ro, from.FieldRef.FieldPath)
				if err != nil {
					return nil, err
				}
				value = v
			}
		}
		v := value
		out = append(out, v1alpha1.Argument{Name: a.Name, Value: &v})
	}
	return out, nil
}

var pathSeparators = regexp.MustCompile(`[.\[\]]+`)

// FieldValue reads a primitive field of an object by path, such as
// metadata.name, metadata.labels['app'] or spec.strategy.canary.steps[0].setWeight.
func FieldValue(obj any, path string) (string, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	var cur any
	if err := json.Unmarshal(data, &cur); err != nil {
		return "", err
	}
	sections := pathSeparators.Split(path, -1)
	underMetadataMap := false
	for i, section := range sections {
		section = strings.Trim(section, `'"`)
		if section == "" {
			continue
		}
		switch node := cur.(type) {
		case map[string]any:
			next, ok := node[section]
			if !ok && underMetadataMap {
				return "", nil
			}
			cur = next
		case []any:
			idx, err := strconv.Atoi(section)
			if err != nil {
				return "", fmt.Errorf("invalid index '%s'", section)
			}
			if idx < 0 || idx >= len(node) {
				return "", fmt.Errorf("index %d out of range", idx)
			}
			cur = node[idx]
		default:
			return "", fmt.Errorf("invalid path %s in rollout", path)
		}
		underMetadataMap = i == 1 && sections[0] == "metadata" && (section == "labels" || section == "annotations")
	}
	switch cur.(type) {
	case nil:
		return "", fmt.Errorf("invalid path %s in rollout", path)
	case map[string]any, []any:
		return "", fmt.Errorf("path %s in rollout must terminate in a primitive value", path)
	}
	return fmt.Sprintf("%v", cur), nil
}
