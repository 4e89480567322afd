package plan

import (
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func statusEqual(a, b *v1alpha1.ExperimentStatus) bool { return equality.Semantic.DeepEqual(a, b) }
