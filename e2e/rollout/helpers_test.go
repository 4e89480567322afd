package rollout

import (
	"encoding/json"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var metav1GetOptions = metav1.GetOptions{}

func toJSON(v any) string {
	data, _ := json.Marshal(v)
	return strings.ReplaceAll(string(data), " ", "")
}
