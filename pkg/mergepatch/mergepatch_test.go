package mergepatch

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestCreate(t *testing.T) {
	for name, tc := range map[string]struct {
		a, b    string
		want    string
		changed bool
	}{
		"equal objects give no patch":          {`{"x":1,"y":{"z":[1,2]}}`, `{"x":1,"y":{"z":[1,2]}}`, ``, false},
		"a changed scalar is set":              {`{"x":1,"y":2}`, `{"x":3,"y":2}`, `{"x":3}`, true},
		"a removed key becomes null":           {`{"x":1,"y":2}`, `{"x":1}`, `{"y":null}`, true},
		"an added key is set":                  {`{"x":1}`, `{"x":1,"y":{"z":true}}`, `{"y":{"z":true}}`, true},
		"nested objects are diffed key by key": {`{"s":{"a":1,"b":2}}`, `{"s":{"a":1,"b":3}}`, `{"s":{"b":3}}`, true},
		"arrays are replaced whole":            {`{"l":[1,2,3]}`, `{"l":[1,2]}`, `{"l":[1,2]}`, true},
	} {
		t.Run(name, func(t *testing.T) {
			var a, b any
			json.Unmarshal([]byte(tc.a), &a)
			json.Unmarshal([]byte(tc.b), &b)
			patch, changed, err := Create(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tc.changed {
				t.Fatalf("changed = %v, want %v", changed, tc.changed)
			}
			if !tc.changed {
				return
			}
			var got, want any
			json.Unmarshal(patch, &got)
			json.Unmarshal([]byte(tc.want), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("patch = %s, want %s", patch, tc.want)
			}
		})
	}
}
