// Package install puts the binaries of configured plugins into the plugin
// directory: copied from a file:// location or downloaded from an
// http(s):// one, checked against the configured sha256 and made
// executable. A binary already in place whose sha256 matches is kept, so a
// restarted controller does not download it again.
package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/plugin/config"
)

// DefaultDir is Argo Rollouts' plugin directory, relative to the
// controller's working directory.
const DefaultDir = "plugin-bin"

// Defaults bound a download.
const (
	DefaultMaxBytes = 512 << 20
	DefaultTimeout  = 5 * time.Minute
)

// SecretGetter reads a Secret of download headers from the controller's
// namespace.
type SecretGetter interface {
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// Options say where binaries go and how they are fetched.
type Options struct {
	// Dir is the plugin directory; relative paths are made absolute.
	// Empty means DefaultDir.
	Dir string
	// Namespace holds the Secrets named by headersFrom.
	Namespace string
	Secrets   SecretGetter
	// Client downloads http(s) locations; nil means a plain client.
	Client *http.Client
	// MaxBytes bounds a binary's size; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Timeout bounds one download; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Binary is an installed plugin: the path to run and its arguments, or the
// error that keeps it from running.
type Binary struct {
	Item config.Item
	Path string
	Err  error
}

// Installed are the outcomes of Install.
type Installed []Binary

// Find returns the binary of a plugin of kind named name, or false when no
// such plugin is configured.
func (in Installed) Find(kind config.Kind, name string) (Binary, bool) {
	for _, b := range in {
		if b.Item.Kind == kind && b.Item.Name == name {
			return b, true
		}
	}
	return Binary{}, false
}

// Install installs every item. It never stops at a broken item: each
// Binary carries its own error, which every user of that plugin reports.
func Install(ctx context.Context, o Options, items []config.Item) Installed {
	logger := klog.FromContext(ctx)
	out := make(Installed, 0, len(items))
	seen := map[string]config.Kind{}
	for _, it := range items {
		b := Binary{Item: it}
		if other, dup := seen[it.Name]; dup {
			b.Err = fmt.Errorf("plugin %s is configured more than once (as %s and %s plugins); names must be unique", it.Name, other, it.Kind)
		} else {
			seen[it.Name] = it.Kind
			b.Path, b.Err = o.installOne(ctx, it)
		}
		if b.Err != nil {
			logger.Error(b.Err, "Plugin not installed; everything that uses it reports this error", "plugin", it.Name, "kind", it.Kind)
		}
		out = append(out, b)
	}
	return out
}

// installOne returns the path of one item's verified binary.
func (o Options) installOne(ctx context.Context, it config.Item) (string, error) {
	dir, file, err := config.SplitName(it.Name)
	if err != nil {
		return "", err
	}
	want, err := expectedSum(it)
	if err != nil {
		return "", err
	}
	loc, err := url.Parse(it.Location)
	if err != nil || (loc.Scheme != "file" && loc.Scheme != "http" && loc.Scheme != "https") {
		return "", fmt.Errorf("plugin %s: location %q must be a file:// or http(s):// URL", it.Name, it.Location)
	}
	root := o.Dir
	if root == "" {
		root = DefaultDir
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("plugin directory: %w", err)
	}
	target := filepath.Join(root, dir, file)
	if want != "" && fileSum(target) == want {
		klog.FromContext(ctx).Info("Plugin binary already in place with the expected sha256", "plugin", it.Name, "path", target)
		return target, nil
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return "", fmt.Errorf("plugin %s: %w", it.Name, err)
	}
	if err := o.fetch(ctx, it, loc, target, want); err != nil {
		return "", fmt.Errorf("plugin %s: %w", it.Name, err)
	}
	return target, nil
}

// expectedSum returns the item's sha256 in lower case, or an error when it
// is not 64 hex digits.
func expectedSum(it config.Item) (string, error) {
	if it.Sha256 == "" {
		return "", nil
	}
	sum := strings.ToLower(strings.TrimSpace(it.Sha256))
	if _, err := hex.DecodeString(sum); err != nil || len(sum) != 2*sha256.Size {
		return "", fmt.Errorf("plugin %s: sha256 %q is not 64 hex digits", it.Name, it.Sha256)
	}
	return sum, nil
}

// fileSum is the hex sha256 of a file, or "" when it cannot be read.
func fileSum(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
