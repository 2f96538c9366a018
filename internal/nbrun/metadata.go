package nbrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"
)

// Notebook metadata that comes from the kernel.
//
// When Jupyter Notebook (6.x, static/notebook/js/notebook.js) opens a notebook and the kernel is
// ready, it sets the notebook's metadata "kernelspec" to the kernel spec's name, display_name and
// language, and "language_info" to the language_info of the kernel's kernel_info reply; if either
// differs from what the file stored (compared as JSON values), it marks the notebook modified, and
// autosave rewrites the file although the reader changed nothing. nbconvert --execute stores the
// same language_info.
//
// GoNB v0.11.1 (internal/kernel/messages.go, SendKernelInfo) replies with
//
//	{"name": "go", "version": runtime.Version(), "mimetype": "text/x-go", "file_extension": ".go",
//	 "pygments_lexer": "", "codemirror_mode": "", "nbconvert_exporter": ""}
//
// where runtime.Version() is the Go release that built the gonb binary (e.g. "go1.26.8"), not the
// `go` on PATH. scripts/setup.sh therefore builds gonb with the release the tracked notebooks name,
// so that every machine's kernel reports the same thing.

// Metadata holds the notebook metadata entries that come from the kernel, by key ("kernelspec",
// "language_info"), as Jupyter's front end would store them.
type Metadata map[string]map[string]any

// KernelMetadata starts the GoNB kernel (executing an empty notebook with nbconvert, which asks the
// kernel for its kernel_info and records it) and returns the metadata Jupyter's front end stores for
// it: "kernelspec" from the installed kernel spec, "language_info" from the kernel.
func KernelMetadata(ctx context.Context) (Metadata, error) {
	e := detect()
	if e.err != nil {
		return nil, e.err
	}
	dir, err := os.MkdirTemp("", "nbrun-kernelinfo-")
	if err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	empty, err := json.Marshal(map[string]any{
		"cells":          []any{},
		"metadata":       map[string]any{"kernelspec": e.kernelSpec},
		"nbformat":       4,
		"nbformat_minor": 5,
	})
	if err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	in := filepath.Join(dir, "kernelinfo.ipynb")
	if err := os.WriteFile(in, empty, 0o644); err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	res, err := Run(ctx, in, Options{Timeout: 2 * time.Minute, OutputPath: filepath.Join(dir, "executed.ipynb")})
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(res.ExecutedPath)
	if err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	var nb struct {
		Metadata struct {
			LanguageInfo map[string]any `json:"language_info"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("nbrun: executed notebook: %w", err)
	}
	if len(nb.Metadata.LanguageInfo) == 0 {
		return nil, errors.New("nbrun: the executed notebook has no language_info from the kernel")
	}
	ks := map[string]any{}
	for k, v := range e.kernelSpec {
		ks[k] = v
	}
	return Metadata{"kernelspec": ks, "language_info": nb.Metadata.LanguageInfo}, nil
}

// MetadataDiff compares a notebook's stored metadata with md and describes each entry that
// differs, as "key: stored X, kernel Y" (nothing when they agree).
func MetadataDiff(notebookJSON []byte, md Metadata) ([]string, error) {
	var nb struct {
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal(notebookJSON, &nb); err != nil {
		return nil, fmt.Errorf("nbrun: parsing notebook JSON: %w", err)
	}
	var diffs []string
	for _, k := range sortedKeys(md) {
		want := map[string]any{}
		for kk, v := range md[k] {
			want[kk] = v
		}
		got, ok := nb.Metadata[k]
		if !ok || !reflect.DeepEqual(got, any(want)) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			diffs = append(diffs, fmt.Sprintf("%s: stored %s, kernel %s", k, g, w))
		}
	}
	return diffs, nil
}

// SetMetadata returns the notebook with its metadata entries of md replaced (or added), and
// everything else as it was: members keep their order and their text, and the whole is written as
// Jupyter and Python's json.dumps(indent=1) write notebooks (one-space indentation, a newline at the
// end). changed says whether the result differs from the input.
func SetMetadata(notebookJSON []byte, md Metadata) (out []byte, changed bool, err error) {
	top, err := members(notebookJSON)
	if err != nil {
		return nil, false, err
	}
	i := index(top, "metadata")
	if i < 0 {
		top = append(top, member{key: "metadata", value: json.RawMessage("{}")})
		i = len(top) - 1
	}
	meta, err := members(top[i].value)
	if err != nil {
		return nil, false, fmt.Errorf("metadata: %w", err)
	}
	for _, k := range sortedKeys(md) {
		v, err := marshal(md[k])
		if err != nil {
			return nil, false, err
		}
		if j := index(meta, k); j >= 0 {
			meta[j].value = v
		} else {
			meta = append(meta, member{key: k, value: v})
		}
	}
	if top[i].value, err = join(meta); err != nil {
		return nil, false, err
	}
	compact, err := join(top)
	if err != nil {
		return nil, false, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", " "); err != nil {
		return nil, false, fmt.Errorf("nbrun: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), !bytes.Equal(b.Bytes(), notebookJSON), nil
}

// member is one member of a JSON object, its value as written.
type member struct {
	key   string
	value json.RawMessage
}

// members returns the members of the JSON object data, in order.
func members(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("nbrun: not a JSON object (%v)", err)
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("nbrun: %w", err)
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("nbrun: member %q: %w", k, err)
		}
		ms = append(ms, member{key: k, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	return ms, nil
}

// join writes members as a compact JSON object, their values' text unchanged but for whitespace.
func join(ms []member) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(m.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		if err := json.Compact(&b, m.value); err != nil {
			return nil, fmt.Errorf("nbrun: member %q: %w", m.key, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping (as Python writes JSON); maps get sorted keys.
func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func index(ms []member, key string) int {
	for i, m := range ms {
		if m.key == key {
			return i
		}
	}
	return -1
}

func sortedKeys(md Metadata) []string {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
