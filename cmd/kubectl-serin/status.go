package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/rolloutstatus"
)

func newStatus(o *options) *cobra.Command {
	var watchFlag bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status ROLLOUT",
		Short: "Print a Rollout's status; exit 0 when Healthy, non-zero when Degraded or aborted",
		Long: "Print a Rollout's phase and message. With --watch, wait (watching the API, not polling) until it is\n" +
			"Healthy, Degraded or aborted with its current spec observed.\n\n" + exitCodes,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.checkOutput(); err != nil {
				return err
			}
			c, err := o.connect()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return o.status(ctx, c, args[0], watchFlag)
		},
	}
	cmd.Flags().BoolVarP(&watchFlag, "watch", "w", false, "wait until the Rollout is Healthy, Degraded or aborted")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --watch, give up after this long (exit 6); 0 waits forever")
	return cmd
}

func (o *options) status(ctx context.Context, c *clients, name string, wait bool) error {
	ro, err := c.rollouts.ArgoprojV1alpha1().Rollouts(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	v := rolloutstatus.Of(ro)
	if wait && !v.Final {
		if ro, err = untilFinal(ctx, c.rollouts, c.namespace, name); err != nil {
			if ctx.Err() != nil {
				return withCode(rolloutstatus.ExitTimeout, fmt.Errorf("rollout %s/%s is still %s: %w", c.namespace, name, v.Phase, ctx.Err()))
			}
			return err
		}
		v = rolloutstatus.Of(ro)
	}
	if err := o.print(v, func(w io.Writer) error { return writeVerdict(w, v) }); err != nil {
		return err
	}
	if v.ExitCode != 0 {
		return withCode(v.ExitCode, nil)
	}
	return nil
}

// untilFinal watches the one Rollout until its verdict is final.
func untilFinal(ctx context.Context, client versioned.Interface, ns, name string) (*v1alpha1.Rollout, error) {
	rollouts := client.ArgoprojV1alpha1().Rollouts(ns)
	selector := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.FieldSelector = selector
			return rollouts.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = selector
			return rollouts.Watch(ctx, opts)
		},
	}
	ev, err := watchtools.UntilWithSync(ctx, lw, &v1alpha1.Rollout{}, nil, func(e watch.Event) (bool, error) {
		if e.Type == watch.Deleted {
			return false, fmt.Errorf("rollout %s/%s was deleted", ns, name)
		}
		ro, ok := e.Object.(*v1alpha1.Rollout)
		return ok && rolloutstatus.Of(ro).Final, nil
	})
	if err != nil {
		return nil, err
	}
	return ev.Object.(*v1alpha1.Rollout), nil
}

func writeVerdict(w io.Writer, v rolloutstatus.Verdict) error {
	line := fmt.Sprintf("%s/%s: %s", v.Namespace, v.Rollout, v.Phase)
	if v.Aborted {
		line += " (aborted)"
	}
	if v.Message != "" {
		line += ": " + v.Message
	}
	if !v.Observed {
		line += " (the controller has not observed the current spec yet)"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
