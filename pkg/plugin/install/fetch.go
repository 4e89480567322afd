package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/plugin/config"
)

// fetch writes the binary at loc to target, through a temporary file in the
// same directory renamed into place once its sha256 is checked: a running
// binary is never overwritten and a failed fetch leaves no file behind.
func (o Options) fetch(ctx context.Context, it config.Item, loc *url.URL, target, want string) error {
	src, err := o.open(ctx, it, loc)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	limit := o.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(src, limit+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", redactURL(loc), err)
	}
	if n > limit {
		return fmt.Errorf("%s is larger than %d bytes", redactURL(loc), limit)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if want != "" && got != want {
		return fmt.Errorf("sha256 of %s is %s, want %s: refusing to run it", redactURL(loc), got, want)
	}
	if err := os.Chmod(tmp.Name(), 0o700); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	klog.FromContext(ctx).Info("Installed plugin binary", "plugin", it.Name, "from", redactURL(loc), "path", target, "sha256", got)
	return nil
}

// open returns the bytes of the binary at loc.
func (o Options) open(ctx context.Context, it config.Item, loc *url.URL) (io.ReadCloser, error) {
	if loc.Scheme == "file" {
		path := loc.Host + loc.Path
		if loc.Opaque != "" {
			path = loc.Opaque
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", path)
		}
		return os.Open(path)
	}
	header, err := o.headers(ctx, it)
	if err != nil {
		return nil, err
	}
	return o.download(ctx, loc, header)
}

// headers reads the download headers from the item's Secrets. Their values
// are credentials: they appear in no log and no error.
func (o Options) headers(ctx context.Context, it config.Item) (http.Header, error) {
	header := http.Header{}
	for _, hf := range it.HeadersFrom {
		if o.Secrets == nil {
			return nil, errors.New("headersFrom is set but no Secret reader is available")
		}
		secret, err := o.Secrets.GetSecret(ctx, o.Namespace, hf.SecretRef.Name)
		if err != nil {
			return nil, fmt.Errorf("reading the headers Secret %s/%s: %w", o.Namespace, hf.SecretRef.Name, err)
		}
		for k, v := range secret.Data {
			header.Add(k, string(v))
		}
	}
	return header, nil
}

// download GETs loc within the download timeout. The returned body keeps
// the timeout's context alive until it is closed.
func (o Options) download(ctx context.Context, loc *url.URL, header http.Header) (io.ReadCloser, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header = header
	client := o.Client
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("downloading %s: %w", redactURL(loc), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_ = resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("downloading %s: HTTP %d %s", redactURL(loc), resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return cancelOnClose{ReadCloser: resp.Body, cancel: cancel}, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// redactURL is loc without user information, which may hold a password.
func redactURL(loc *url.URL) string {
	u := *loc
	u.User = nil
	return u.String()
}
