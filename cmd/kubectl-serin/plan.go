package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/simulate"
	"github.com/serin-dev/serin/pkg/trafficrouting/routers"
)

// planFlags are the flags of plan.
type planFlags struct {
	file     string
	images   []string
	podReady int
	initial  bool
	routers  routers.Config
}

func newPlan(o *options) *cobra.Command {
	f := &planFlags{}
	cmd := &cobra.Command{
		Use:   "plan [ROLLOUT] (-f rollout.yaml | --image [CONTAINER=]IMAGE)",
		Short: "Show what a Rollout will do, step by step, before it is applied",
		Long: "Run Serin's planner on the Rollout in a simulated cluster and print each step: the new and the stable\n" +
			"revision's replicas, the canary's traffic weight and the weights each traffic-routing object carries, the\n" +
			"pauses and analyses that gate it (analyses are assumed to pass), the least time to full promotion, and\n" +
			"every InvalidSpec the Rollout would hit. Indefinite pauses are reported as waiting for promote and then\n" +
			"promoted in the simulation.\n\n" +
			"  kubectl serin plan -f rollout.yaml          no cluster needed: the file's Rollout, as an update from a\n" +
			"                                              previous revision (--initial for a first deploy); Services it\n" +
			"                                              names that the file lacks are assumed to exist\n" +
			"  kubectl serin plan NAME --image app=img:v2  the live Rollout, from its live status and ReplicaSets\n" +
			"  kubectl serin plan NAME -f new.yaml         the live Rollout with the pod template of new.yaml's Rollout\n\n" +
			exitCodes,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.checkOutput(); err != nil {
				return err
			}
			in, notes, err := o.planInput(cmd.Context(), f, args)
			if err != nil {
				return err
			}
			r := simulate.Run(in)
			r.Notes = append(notes, r.Notes...)
			if err := o.print(r, func(w io.Writer) error { return simulate.WriteText(w, r) }); err != nil {
				return err
			}
			return planExit(r)
		},
	}
	cmd.Flags().StringVarP(&f.file, "filename", "f", "", "a file with the Rollout (and its Services, AnalysisTemplates, traffic-routing objects)")
	cmd.Flags().StringArrayVar(&f.images, "image", nil, "new image of a container, as CONTAINER=IMAGE (or IMAGE for a single container)")
	cmd.Flags().IntVar(&f.podReady, "pod-ready", 0, "seconds a pod takes to become ready (0: at once)")
	cmd.Flags().BoolVar(&f.initial, "initial", false, "with -f alone, simulate a first deploy instead of an update")
	cmd.Flags().StringVar(&f.routers.IstioAPIVersion, "istio-api-version", "", "Istio API version, as the controller's flag (default v1alpha3)")
	cmd.Flags().StringVar(&f.routers.IngressAPIVersion, "ingress-api-version", "", "Ingress API version, as the controller's flag (default networking.k8s.io/v1)")
	cmd.Flags().StringVar(&f.routers.SMIAPIVersion, "traffic-split-api-version", "", "SMI TrafficSplit API version, as the controller's flag (default v1alpha1)")
	return cmd
}

// planExit is plan's exit code: InvalidSpec first, then a simulation that
// did not complete.
func planExit(r simulate.Report) error {
	switch {
	case len(r.InvalidSpec) > 0:
		return withCode(exitInvalidSpec, nil)
	case !r.Completed:
		return withCode(exitStuck, nil)
	}
	return nil
}

func (o *options) planInput(ctx context.Context, f *planFlags, args []string) (simulate.Input, []string, error) {
	start := time.Now().UTC().Truncate(time.Second)
	podReady := time.Duration(f.podReady) * time.Second
	if f.podReady < 0 {
		return simulate.Input{}, nil, fmt.Errorf("--pod-ready must not be negative")
	}
	if len(args) == 0 {
		if f.file == "" {
			return simulate.Input{}, nil, fmt.Errorf("give -f rollout.yaml, or a Rollout's name with --image or -f")
		}
		return o.fileInput(f, start, podReady)
	}
	if f.file == "" && len(f.images) == 0 {
		return simulate.Input{}, nil, fmt.Errorf("a live Rollout needs a change to plan: --image or -f with a new template")
	}
	return o.liveInput(ctx, f, args[0], start, podReady)
}

// fileInput plans the file's Rollout with no cluster.
func (o *options) fileInput(f *planFlags, start time.Time, podReady time.Duration) (simulate.Input, []string, error) {
	m, err := readManifests(f.file)
	if err != nil {
		return simulate.Input{}, nil, err
	}
	if len(m.Rollouts) != 1 {
		return simulate.Input{}, nil, fmt.Errorf("%s has %d Rollouts, want exactly one", f.file, len(m.Rollouts))
	}
	ro := m.Rollouts[0]
	if ro.Namespace == "" {
		ro.Namespace = o.namespaceFlag()
	}
	if err := setImages(ro, f.images); err != nil {
		return simulate.Input{}, nil, err
	}
	var notes []string
	if added := simulate.AssumeServices(ro, m.Services); len(added) > 0 {
		notes = append(notes, "assumed to exist (not in the file): Services "+strings.Join(added, ", "))
	}
	in := simulate.Input{Rollout: ro, Services: m.Services, AnalysisTemplates: m.AnalysisTemplates,
		ClusterAnalysisTemplates: m.ClusterAnalysisTemplates, Start: start, PodReady: podReady, AsUpdate: !f.initial}
	rt := f.routers.ForRollout(ro)
	if objs := m.RouterObjects(ro, rt); len(objs) > 0 {
		in.Routers, in.RouterObjects = rt, objs
	}
	return in, notes, nil
}

func readManifests(path string) (simulate.Manifests, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return simulate.Manifests{}, err
	}
	m, err := simulate.ReadManifests(data)
	if err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// setImages applies --image to the Rollout's pod template.
func setImages(ro *v1alpha1.Rollout, images []string) error {
	containers := ro.Spec.Template.Spec.Containers
	for _, img := range images {
		name, image, named := strings.Cut(img, "=")
		if !named {
			if len(containers) != 1 {
				return fmt.Errorf("--image %s: the Rollout has %d containers; use CONTAINER=IMAGE", img, len(containers))
			}
			containers[0].Image = img
			continue
		}
		found := false
		for i := range containers {
			if containers[i].Name == name {
				containers[i].Image, found = image, true
			}
		}
		if !found {
			return fmt.Errorf("--image %s: the Rollout has no container %q", img, name)
		}
	}
	return nil
}
