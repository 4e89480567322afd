package tolerant

import (
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

// ReasonMalformed is the reason of the Warning event on an object that was
// decoded with fields left out.
const ReasonMalformed = "MalformedObject"

// maxTracked bounds how many objects the reporter remembers having reported;
// past it the memory starts over (and an object may be reported once more).
const maxTracked = 10000

// maxListed is how many dropped fields one event or log line names, and
// maxReason how much of each one's decoding error it quotes.
const (
	maxListed = 5
	maxReason = 160
)

// EventReporter returns a Reporter that records a Warning event on the object
// and writes one log line, once per version of each object: a relist or a
// resync of an unchanged object says nothing new.
func EventReporter(recorder record.EventRecorder, logger klog.Logger) Reporter {
	var mu sync.Mutex
	seen := map[types.UID]string{}
	return func(obj runtime.Object, dropped []Dropped) {
		m, err := meta.Accessor(obj)
		if err != nil {
			return
		}
		mu.Lock()
		if rv, ok := seen[m.GetUID()]; ok && rv == m.GetResourceVersion() {
			mu.Unlock()
			return
		}
		if len(seen) >= maxTracked {
			clear(seen)
		}
		seen[m.GetUID()] = m.GetResourceVersion()
		mu.Unlock()

		msg := Message(dropped)
		logger.Info("Malformed fields left out of object", "object", klog.KObj(m), "fields", msg)
		recorder.Event(obj, corev1.EventTypeWarning, ReasonMalformed, msg)
	}
}

// Message names the dropped fields and why, the first few in full.
func Message(dropped []Dropped) string {
	parts := make([]string, 0, maxListed+1)
	for i, d := range dropped {
		if i == maxListed {
			parts = append(parts, "and "+strconv.Itoa(len(dropped)-maxListed)+" more")
			break
		}
		reason := d.Reason
		if len(reason) > maxReason {
			reason = reason[:maxReason] + "..."
		}
		parts = append(parts, d.Path+": "+reason)
	}
	return "fields that cannot be decoded are ignored: " + strings.Join(parts, "; ")
}
