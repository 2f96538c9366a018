package nbrun

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

var testMetadata = Metadata{
	"kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"},
	"language_info": {"codemirror_mode": "", "file_extension": ".go", "mimetype": "text/x-go", "name": "go",
		"nbconvert_exporter": "", "pygments_lexer": "", "version": "go1.99.1"},
}

// A notebook as Python's json.dumps(nb, indent=1, ensure_ascii=False) writes it: members not in
// sorted order, non-ASCII text, escapes, an empty list, a number with a fraction.
const pyNotebook = `{
 "cells": [
  {
   "cell_type": "code",
   "metadata": {},
   "source": [
    "fmt.Println(\"β — <a & b>\\t\\u001b\")\n",
    "x := 1.0"
   ],
   "outputs": [],
   "execution_count": null,
   "id": "cell-00"
  }
 ],
 "metadata": {
  "language_info": {
   "name": "go",
   "version": "go1.26"
  },
  "custom": {
   "x": 1.50
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
`

func TestSetMetadata(t *testing.T) {
	out, changed, err := SetMetadata([]byte(pyNotebook), testMetadata)
	if err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Error("changed = false, want true")
	}
	// Everything but the two entries is byte for byte as it was; language_info stays where it was,
	// kernelspec is added after the existing members, each with sorted keys.
	want := strings.Replace(pyNotebook, `  "language_info": {
   "name": "go",
   "version": "go1.26"
  },
  "custom": {
   "x": 1.50
  }
`, `  "language_info": {
   "codemirror_mode": "",
   "file_extension": ".go",
   "mimetype": "text/x-go",
   "name": "go",
   "nbconvert_exporter": "",
   "pygments_lexer": "",
   "version": "go1.99.1"
  },
  "custom": {
   "x": 1.50
  },
  "kernelspec": {
   "display_name": "Go (gonb)",
   "language": "go",
   "name": "gonb"
  }
`, 1)
	if string(out) != want {
		t.Errorf("SetMetadata wrote:\n%s\nwant:\n%s", out, want)
	}
	diffs, err := MetadataDiff(out, testMetadata)
	if err != nil || len(diffs) != 0 {
		t.Errorf("MetadataDiff after SetMetadata = %q, %v; want none", diffs, err)
	}
	// A second pass changes nothing.
	again, changed, err := SetMetadata(out, testMetadata)
	if err != nil || changed || string(again) != string(out) {
		t.Errorf("second SetMetadata: changed=%v err=%v", changed, err)
	}
}

func TestMetadataDiff(t *testing.T) {
	diffs, err := MetadataDiff([]byte(pyNotebook), testMetadata)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 2 || !strings.HasPrefix(diffs[0], `kernelspec: stored null, kernel {"display_name":"Go (gonb)"`) ||
		!strings.Contains(diffs[1], `"version":"go1.26"}, kernel {`) {
		t.Errorf("MetadataDiff = %q", diffs)
	}
	// One value that differs (an empty mimetype, as the notebooks had before) is enough.
	md := Metadata{"language_info": map[string]any{}}
	for k, v := range testMetadata["language_info"] {
		md["language_info"][k] = v
	}
	nb, _, err := SetMetadata([]byte(pyNotebook), md)
	if err != nil {
		t.Fatal(err)
	}
	md["language_info"]["mimetype"] = ""
	if diffs, _ := MetadataDiff(nb, md); len(diffs) != 1 {
		t.Errorf("MetadataDiff with another mimetype = %q, want one difference", diffs)
	}
	if _, err := MetadataDiff([]byte("{"), md); err == nil {
		t.Error("MetadataDiff accepted invalid JSON")
	}
	if _, _, err := SetMetadata([]byte("[]"), md); err == nil {
		t.Error("SetMetadata accepted a JSON array")
	}
}

// TestKernelMetadata asks the installed GoNB kernel for its metadata: language_info as GoNB
// v0.11.1 builds it, with the Go release that built the gonb binary.
func TestKernelMetadata(t *testing.T) {
	requireJupyter(t)
	md, err := KernelMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(md)
	t.Logf("kernel metadata: %s", b)
	li := md["language_info"]
	for k, want := range map[string]string{"name": "go", "mimetype": "text/x-go", "file_extension": ".go"} {
		if li[k] != want {
			t.Errorf("language_info[%q] = %v, want %q", k, li[k], want)
		}
	}
	if v, _ := li["version"].(string); !strings.HasPrefix(v, "go1.") {
		t.Errorf("language_info version %q is not a Go release", li["version"])
	}
	if md["kernelspec"]["name"] != KernelName || md["kernelspec"]["language"] != "go" {
		t.Errorf("kernelspec = %v", md["kernelspec"])
	}
}
