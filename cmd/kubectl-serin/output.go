package main

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// print writes v as JSON or YAML when -o asks for it, and otherwise calls
// text.
func (o *options) print(v any, text func(io.Writer) error) error {
	switch o.output {
	case "":
		return text(o.out)
	case "json":
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.out, string(data))
		return err
	case "yaml":
		data, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = o.out.Write(data)
		return err
	}
	return fmt.Errorf("unknown output format %q: use json or yaml", o.output)
}

// checkOutput refuses an unknown -o before any work is done.
func (o *options) checkOutput() error {
	switch o.output {
	case "", "json", "yaml":
		return nil
	}
	return withCode(exitError, fmt.Errorf("unknown output format %q: use json or yaml", o.output))
}
