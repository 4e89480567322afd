package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/serin-dev/serin/pkg/awselb"
	"github.com/serin-dev/serin/pkg/rollout"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// envVerifyRetryInterval is Argo Rollouts' variable for how often a weight
// not yet verified is looked at again, in seconds.
const envVerifyRetryInterval = "ROLLOUT_VERIFY_RETRY_INTERVAL"

// verifyRetryInterval reads ROLLOUT_VERIFY_RETRY_INTERVAL: whole seconds
// (as upstream) or a Go duration such as 30s; the default when unset.
func verifyRetryInterval(lookup func(string) (string, bool)) (time.Duration, error) {
	v, ok := lookup(envVerifyRetryInterval)
	if !ok || strings.TrimSpace(v) == "" {
		return plan.DefaultVerifyRetryInterval, nil
	}
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 32); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%s=%q: want a positive number of seconds", envVerifyRetryInterval, v)
}

// albVerification wires ALB target group verification into the Rollout
// reconciler when --aws-verify-target-group is set: an ELBv2 client with
// the AWS SDK's default configuration, and the retry interval.
func albVerification(ctx context.Context, o *options, opts *rollout.Options) error {
	if !o.awsVerifyTargetGroup {
		return nil
	}
	interval, err := verifyRetryInterval(os.LookupEnv)
	if err != nil {
		return err
	}
	bindings, err := alb.TargetGroupBindings(o.targetGroupBindingVersion)
	if err != nil {
		return fmt.Errorf("--aws-target-group-binding-api-version: %w", err)
	}
	client, err := awselb.New(ctx, o.albTagKeyResourceID)
	if err != nil {
		return fmt.Errorf("--aws-verify-target-group: %w", err)
	}
	opts.ELB = client
	opts.TargetGroupBindings = bindings
	opts.VerifyRetryInterval = interval
	return nil
}
