// Package image builds the controller's OCI image from a static binary with
// go-containerregistry: one layer on an empty base, no Docker daemon. The
// build is reproducible: the same binary and version give the same digest.
package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entrypoint is where the controller binary sits in the image.
const Entrypoint = "/serin-controller"

// nonRoot is the user the controller runs as (distroless' "nonroot").
const nonRoot = 65532

// Options say what goes into the image.
type Options struct {
	Binary  string // a static Linux build of cmd/serin-controller
	Version string // stamped as the image's version label
	Arch    string // the binary's GOARCH
	CACerts string // optional CA bundle, installed at /etc/ssl/certs/ca-certificates.crt
}

// epoch is the time stamped on every file and on the image, so that the
// digest depends on content only.
var epoch = time.Unix(0, 0).UTC()

// Build returns the image: the binary as entrypoint, a passwd entry for the
// non-root user and the CA bundle, with OCI media types.
func Build(o Options) (v1.Image, error) {
	layerTar, err := rootfs(o)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", o.Arch
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.Entrypoint = []string{Entrypoint}
	cfg.Config.User = fmt.Sprintf("%d:%d", nonRoot, nonRoot)
	cfg.Config.Env = []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cfg.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   "serin-controller",
		"org.opencontainers.image.version": o.Version,
	}
	return mutate.ConfigFile(img, cfg)
}

// rootfs writes the layer's tar: directories first, then the files.
func rootfs(o Options) ([]byte, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("controller binary: %w", err)
	}
	files := []file{
		{"etc/", nil, 0o755},
		{"etc/passwd", []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonRoot, nonRoot)), 0o644},
		{"etc/ssl/", nil, 0o755},
		{"etc/ssl/certs/", nil, 0o755},
		{"tmp/", nil, 0o1777},
		{Entrypoint[1:], bin, 0o755},
	}
	if o.CACerts != "" {
		certs, err := os.ReadFile(o.CACerts)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		files = append(files, file{"etc/ssl/certs/ca-certificates.crt", certs, 0o644})
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := f.write(tw); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type file struct {
	name string // a trailing slash makes a directory
	body []byte
	mode int64
}

func (f file) write(tw *tar.Writer) error {
	h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: epoch, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: int64(len(f.body))}
	if f.name[len(f.name)-1] == '/' {
		h.Typeflag, h.Size = tar.TypeDir, 0
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("tar %s: %w", f.name, err)
	}
	_, err := tw.Write(f.body)
	return err
}
