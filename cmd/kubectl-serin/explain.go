package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/explain"
	"github.com/serin-dev/serin/pkg/progress"
)

func newExplain(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "explain rollout NAME",
		Short: "Explain a Rollout's current and previous release: steps, analyses, what stopped it, what comes next",
		Long: "Read the Rollout, its ReplicaSets, AnalysisRuns, Experiments and events, and print a timeline of its current\n" +
			"and previous release: each step with its start and end, weight and replicas; each analysis with its\n" +
			"measurements (value, verdict) and the measurement that decided an abort or a pause; who wrote the\n" +
			"Rollout (its managed fields); then what happens next and an ETA. Works on Rollouts that Argo Rollouts'\n" +
			"controller ran too.\n\n" + exitCodes,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.checkOutput(); err != nil {
				return err
			}
			switch args[0] {
			case "rollout", "rollouts", "ro":
			default:
				return fmt.Errorf("explain knows Rollouts only: kubectl serin explain rollout NAME (got %q)", args[0])
			}
			c, err := o.connect()
			if err != nil {
				return err
			}
			in, err := explainInput(cmd.Context(), c, args[1])
			if err != nil {
				return err
			}
			r := explain.Build(in)
			return o.print(r, func(w io.Writer) error { return explain.WriteText(w, r) })
		},
	}
}

func explainInput(ctx context.Context, c *clients, name string) (explain.Input, error) {
	ro, err := c.rollouts.ArgoprojV1alpha1().Rollouts(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return explain.Input{}, err
	}
	in := explain.Input{Rollout: ro, Now: time.Now().UTC()}
	if in.ReplicaSets, err = ownedReplicaSets(ctx, c, ro); err != nil {
		return in, err
	}
	runs, err := c.rollouts.ArgoprojV1alpha1().AnalysisRuns(ro.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return in, err
	}
	owned := map[types.UID]bool{ro.UID: true}
	for i := range runs.Items {
		if metav1.IsControlledBy(&runs.Items[i], ro) {
			in.AnalysisRuns = append(in.AnalysisRuns, &runs.Items[i])
			owned[runs.Items[i].UID] = true
		}
	}
	exps, err := c.rollouts.ArgoprojV1alpha1().Experiments(ro.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return in, err
	}
	for i := range exps.Items {
		if metav1.IsControlledBy(&exps.Items[i], ro) {
			in.Experiments = append(in.Experiments, &exps.Items[i])
			owned[exps.Items[i].UID] = true
		}
	}
	if in.Events, err = ownedEvents(ctx, c, ro.Namespace, owned); err != nil {
		return in, err
	}
	in.AnalysisDuration = templateDurations(ctx, c, ro.Namespace)
	return in, nil
}

// ownedEvents lists the events about the Rollout and the objects it owns.
func ownedEvents(ctx context.Context, c *clients, ns string, owned map[types.UID]bool) ([]corev1.Event, error) {
	list, err := c.kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if owned[e.InvolvedObject.UID] {
			out = append(out, e)
		}
	}
	return out, nil
}

// templateDurations says how long an analysis still to run lasts, from
// its templates in the cluster; a template that cannot be read counts as
// instant.
func templateDurations(ctx context.Context, c *clients, ns string) progress.AnalysisDuration {
	getter := clusterTemplates{ctx: ctx, c: c}
	return func(a *v1alpha1.RolloutAnalysis) (time.Duration, bool) {
		set, err := templates.Resolve(ns, a.Templates, getter)
		if err != nil {
			return 0, true
		}
		spec, err := templates.Flatten(set)
		if err != nil {
			return 0, true
		}
		return progress.MetricsDuration(spec.Metrics)
	}
}

// clusterTemplates reads templates from the API server.
type clusterTemplates struct {
	ctx context.Context
	c   *clients
}

func (g clusterTemplates) AnalysisTemplate(ns, name string) (*v1alpha1.AnalysisTemplate, error) {
	return g.c.rollouts.ArgoprojV1alpha1().AnalysisTemplates(ns).Get(g.ctx, name, metav1.GetOptions{})
}

func (g clusterTemplates) ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error) {
	return g.c.rollouts.ArgoprojV1alpha1().ClusterAnalysisTemplates().Get(g.ctx, name, metav1.GetOptions{})
}
