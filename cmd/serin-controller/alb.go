package main

import (
	"context"
	"fmt"

	"github.com/serin-dev/serin/pkg/awselb"
	"github.com/serin-dev/serin/pkg/rollout"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// albVerification wires ALB target group verification into the Rollout
// reconciler when --aws-verify-target-group is set: an ELBv2 client with
// the AWS SDK's default configuration (ROLLOUT_VERIFY_RETRY_INTERVAL is
// read with the plugins' verification, see verifyRetryInterval).
func albVerification(ctx context.Context, o *options, opts *rollout.Options) error {
	if !o.awsVerifyTargetGroup {
		return nil
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
	return nil
}
