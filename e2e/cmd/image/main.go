// Command image builds the controller's OCI image into an OCI layout and
// names it, by tag and digest, in the install manifests. It is what
// `make image` runs; no container daemon is involved.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/serin-dev/serin/e2e/image"
)

func main() {
	binary := flag.String("binary", "", "static Linux build of cmd/serin-controller")
	version := flag.String("version", "", "version stamped into the binary; the image's tag")
	repository := flag.String("repository", "ghcr.io/serin-dev/serin-controller", "image repository named in the manifests")
	out := flag.String("out", "", "directory of the OCI layout to write")
	kustomization := flag.String("kustomization", "", "kustomization.yaml whose images: list is set to the built image")
	cacerts := flag.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to install in the image (empty: none)")
	arch := flag.String("arch", runtime.GOARCH, "GOARCH of the binary")
	flag.Parse()
	if *binary == "" || *version == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "image: --binary, --version and --out are required")
		os.Exit(2)
	}
	if err := run(*binary, *version, *repository, *out, *kustomization, *cacerts, *arch); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(binary, version, repository, out, kustomization, cacerts, arch string) error {
	img, err := image.Build(image.Options{Binary: binary, Version: version, Arch: arch, CACerts: cacerts})
	if err != nil {
		return err
	}
	digest, err := image.WriteLayout(out, version, img)
	if err != nil {
		return err
	}
	fmt.Printf("%s:%s@%s in %s\n", repository, version, digest, out)
	if kustomization == "" {
		return nil
	}
	return image.Stamp(kustomization, repository, version, digest)
}
