package wire

import (
	"context"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// RouterClient calls a traffic-router plugin. Every method returns an
// error when the call failed or when the plugin answered with an RpcError
// (which errors.As finds).
type RouterClient struct{ C Caller }

// UpdateHash calls Plugin.UpdateHash.
func (c RouterClient) UpdateHash(ctx context.Context, ro *v1alpha1.Rollout, canaryHash, stableHash string, extra []v1alpha1.WeightDestination) error {
	var args any = UpdateHashArgs{Rollout: *ro, CanaryHash: canaryHash, StableHash: stableHash, AdditionalDestinations: extra}
	return c.call(ctx, "Plugin.UpdateHash", &args)
}

// SetWeight calls Plugin.SetWeight.
func (c RouterClient) SetWeight(ctx context.Context, ro *v1alpha1.Rollout, weight int32, extra []v1alpha1.WeightDestination) error {
	var args any = SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: weight, AdditionalDestinations: extra}
	return c.call(ctx, "Plugin.SetWeight", &args)
}

// SetHeaderRoute calls Plugin.SetHeaderRoute.
func (c RouterClient) SetHeaderRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetHeaderRoute) error {
	var args any = SetHeaderArgs{Rollout: *ro}
	if route != nil {
		args = SetHeaderArgs{Rollout: *ro, SetHeaderRoute: *route}
	}
	return c.call(ctx, "Plugin.SetHeaderRoute", &args)
}

// SetMirrorRoute calls Plugin.SetMirrorRoute.
func (c RouterClient) SetMirrorRoute(ctx context.Context, ro *v1alpha1.Rollout, route *v1alpha1.SetMirrorRoute) error {
	var args any = SetMirrorArgs{Rollout: *ro}
	if route != nil {
		args = SetMirrorArgs{Rollout: *ro, SetMirrorRoute: *route}
	}
	return c.call(ctx, "Plugin.SetMirrorRoute", &args)
}

// RemoveManagedRoutes calls Plugin.RemoveManagedRoutes.
func (c RouterClient) RemoveManagedRoutes(ctx context.Context, ro *v1alpha1.Rollout) error {
	var args any = RemoveManagedRoutesArgs{Rollout: *ro}
	return c.call(ctx, "Plugin.RemoveManagedRoutes", &args)
}

// VerifyWeight calls Plugin.VerifyWeight. The answer is nil when the router
// does not verify weights.
func (c RouterClient) VerifyWeight(ctx context.Context, ro *v1alpha1.Rollout, weight int32, extra []v1alpha1.WeightDestination) (*bool, error) {
	var resp VerifyWeightResponse
	var args any = SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: weight, AdditionalDestinations: extra}
	if err := c.C.Call(ctx, "Plugin.VerifyWeight", &args, &resp); err != nil {
		return nil, err
	}
	if err := resp.Err.Err(); err != nil {
		return nil, err
	}
	return resp.Verified.Bool(), nil
}

// Type calls Plugin.Type.
func (c RouterClient) Type(ctx context.Context) (string, error) { return Type(ctx, c.C) }

func (c RouterClient) call(ctx context.Context, method string, args *any) error {
	var resp RpcError
	if err := c.C.Call(ctx, method, args, &resp); err != nil {
		return err
	}
	return resp.Err()
}
