package image

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
)

// imagesBlock is the kustomization's trailing images: list, which Stamp
// owns.
var imagesBlock = regexp.MustCompile(`(?ms)^images:\n.*\z`)

// Stamp sets the kustomization at path to name the controller image by tag
// and digest. The file must end with its images: list; everything before
// it is kept byte for byte.
func Stamp(path, repository, tag string, digest fmt.Stringer) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !imagesBlock.Match(old) {
		return fmt.Errorf("%s does not end with an images: list", path)
	}
	block := fmt.Sprintf("images:\n- name: %s\n  newTag: %s\n  digest: %s\n", repository, tag, digest)
	updated := imagesBlock.ReplaceAllLiteral(old, []byte(block))
	if bytes.Equal(updated, old) {
		return nil
	}
	return os.WriteFile(path, updated, 0o644)
}
