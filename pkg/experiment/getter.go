package experiment

import (
	"errors"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

// getter reads analysis templates from the listers.
type getter struct {
	templates        rolloutlisters.AnalysisTemplateLister
	clusterTemplates rolloutlisters.ClusterAnalysisTemplateLister
}

// errNoClusterTemplates is the lookup error of a ClusterAnalysisTemplate by a
// namespaced controller, which may not read them.
var errNoClusterTemplates = errors.New("ClusterAnalysisTemplates cannot be read by a namespaced controller")

func (g getter) AnalysisTemplate(namespace, name string) (*v1alpha1.AnalysisTemplate, error) {
	return g.templates.AnalysisTemplates(namespace).Get(name)
}

func (g getter) ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error) {
	if g.clusterTemplates == nil {
		return nil, errNoClusterTemplates
	}
	return g.clusterTemplates.Get(name)
}
