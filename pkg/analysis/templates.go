package analysis

import (
	"errors"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
)

// TemplateListers finds analysis templates in informer caches; it is the
// templates.Getter the Rollout and Experiment controllers build runs with.
// ClusterTemplates may be nil (a controller that watches one namespace
// cannot see cluster templates); looking one up is then an error.
type TemplateListers struct {
	Templates        rolloutlisters.AnalysisTemplateLister
	ClusterTemplates rolloutlisters.ClusterAnalysisTemplateLister
}

var _ templates.Getter = TemplateListers{}

// AnalysisTemplate returns the named AnalysisTemplate of a namespace.
func (l TemplateListers) AnalysisTemplate(namespace, name string) (*v1alpha1.AnalysisTemplate, error) {
	return l.Templates.AnalysisTemplates(namespace).Get(name)
}

// ClusterAnalysisTemplate returns the named ClusterAnalysisTemplate.
func (l TemplateListers) ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error) {
	if l.ClusterTemplates == nil {
		return nil, errors.New("ClusterAnalysisTemplates are not available to a controller watching a single namespace")
	}
	return l.ClusterTemplates.Get(name)
}
