package leaderelection

import (
	"context"
	"errors"
	"net/http"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
)

// ErrNotHolding is the error of a write refused by FenceWrites.
var ErrNotHolding = errors.New("write refused: this process has not renewed the leader election lease within the renew deadline, so another may lead")

// Holding tells whether this process may write now: it holds the Lease,
// and the last renewal that succeeded was sent less than RenewDeadline ago
// by its own clock.
//
// The work's context alone does not tell: a process that was stopped (a
// long GC pause, a frozen VM, SIGSTOP) for longer than the Lease duration
// wakes up believing it leads, with a stale cache and queued work, while
// another process has taken the Lease. Until its elector notices, which
// takes a Lease read, its workers would write alongside the new leader. A
// successor waits LeaseDuration after the last renewal it saw before it
// takes over, so a write sent within RenewDeadline of a renewal's sending
// has LeaseDuration minus RenewDeadline to land before the successor's
// first.
func (e *Elector) Holding() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.renewedAt != nil && e.clock.Since(*e.renewedAt) < e.cfg.RenewDeadline
}

// noteLeaseWrite records the outcome of a Lease write sent at sent: a
// success that leaves us the holder is a renewal; one that names another
// holder (our release) ends the holding. A failed write changes nothing:
// the last renewal just ages.
func (e *Elector) noteLeaseWrite(sent time.Time, lease *coordv1.Lease, err error) {
	if err != nil || lease == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity == e.cfg.Identity {
		e.renewedAt = &sent
	} else {
		e.renewedAt = nil
	}
}

// leaseWrites hands client-go's elector the Lease client, noting each
// Create and Update it sends.
type leaseWrites struct {
	coordinationv1.LeasesGetter
	e *Elector
}

func (g leaseWrites) Leases(namespace string) coordinationv1.LeaseInterface {
	return leaseWriter{LeaseInterface: g.LeasesGetter.Leases(namespace), e: g.e}
}

type leaseWriter struct {
	coordinationv1.LeaseInterface
	e *Elector
}

func (w leaseWriter) Create(ctx context.Context, l *coordv1.Lease, o metav1.CreateOptions) (*coordv1.Lease, error) {
	sent := w.e.clock.Now()
	out, err := w.LeaseInterface.Create(ctx, l, o)
	w.e.noteLeaseWrite(sent, out, err)
	return out, err
}

func (w leaseWriter) Update(ctx context.Context, l *coordv1.Lease, o metav1.UpdateOptions) (*coordv1.Lease, error) {
	sent := w.e.clock.Now()
	out, err := w.LeaseInterface.Update(ctx, l, o)
	w.e.noteLeaseWrite(sent, out, err)
	return out, err
}

// FenceWrites wraps a client transport so that it refuses, with
// ErrNotHolding and without sending them, the mutating requests (POST,
// PUT, PATCH, DELETE) it gets while holding() is false; reads pass. Wrap
// every client of the work with it, using Elector.Holding, and never the
// Lease's own client, which must renew.
func FenceWrites(holding func() bool) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		return fence{next: rt, holding: holding}
	}
}

type fence struct {
	next    http.RoundTripper
	holding func() bool
}

func (f fence) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		if !f.holding() {
			if r.Body != nil {
				r.Body.Close() // a RoundTripper must close the body, even on error
			}
			return nil, ErrNotHolding
		}
	}
	return f.next.RoundTrip(r)
}
