// Command nbhtml turns an executed notebook into one HTML page that reads offline, without running
// anything and without a network: the figures inline as PNG (re-encoded with at most 256 colours,
// internal/pngquant), the code highlighted as Go, and the math typeset into inline SVG.
//
//	nbhtml [-title T] [-note TEXT] [-replace OLD=NEW ...] [-js DIR] executed.ipynb out.html
//
// It runs `jupyter nbconvert --to html --template basic` (the notebook's body, no theme, no script)
// and then `node DIR/page.mjs` (default DIR: scripts/notebook-html, with its npm packages installed),
// which wraps the body in a page with its own small stylesheet and typesets the math with MathJax 3.
// nbconvert's own pages load MathJax from a CDN (Debian's from /usr/share/javascript), which a reader
// offline or on another system does not have.
//
// -replace rewrites text in the outputs (not the figures), e.g. the machine's paths that cells print;
// the page is refused when it still refers to anything outside itself (a script, a stylesheet or an
// image by URL or file path). scripts/render-notebooks.sh runs it for every notebook.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/confcal/confcal/internal/nbrun"
	"github.com/confcal/confcal/internal/pngquant"
)

type replacements [][2]string

func (r *replacements) String() string { return fmt.Sprint(*r) }
func (r *replacements) Set(s string) error {
	old, repl, ok := strings.Cut(s, "=")
	if !ok || old == "" {
		return fmt.Errorf("want OLD=NEW, got %q", s)
	}
	*r = append(*r, [2]string{old, repl})
	return nil
}

func main() {
	title := flag.String("title", "", "page title (default: the notebook's file name)")
	note := flag.String("note", "", "a line shown above the notebook, e.g. how it was executed")
	js := flag.String("js", filepath.Join("scripts", "notebook-html"), "folder of page.mjs and its npm packages")
	var repl replacements
	flag.Var(&repl, "replace", "OLD=NEW: rewrite OLD in the outputs' text (repeatable)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: nbhtml [-title T] [-note TEXT] [-replace OLD=NEW ...] [-js DIR] executed.ipynb out.html")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	in, out := flag.Arg(0), flag.Arg(1)
	if *title == "" {
		*title = strings.TrimSuffix(filepath.Base(in), ".ipynb")
	}
	if err := run(context.Background(), in, out, *title, *note, *js, repl); err != nil {
		fmt.Fprintln(os.Stderr, "nbhtml:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, in, out, title, note, js string, repl replacements) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	prepared, stats, err := prepare(data, repl)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	tmp, err := os.MkdirTemp("", "nbhtml-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	nb := filepath.Join(tmp, "notebook.ipynb")
	if err := os.WriteFile(nb, prepared, 0o644); err != nil {
		return err
	}
	cmd, err := nbrun.JupyterCommand(ctx, "nbconvert", "--to", "html", "--template", "basic",
		nb, "--output-dir", tmp, "--output", "body")
	if err != nil {
		return err
	}
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nbconvert: %w\n%s", err, o)
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	node := exec.CommandContext(ctx, "node", filepath.Join(js, "page.mjs"), filepath.Join(tmp, "body.html"), absOut, title, note)
	o, err := node.CombinedOutput()
	if err != nil {
		return fmt.Errorf("node %s: %w\n%s(run `npm ci` in %s if its packages are missing)", filepath.Join(js, "page.mjs"), err, o, js)
	}
	fmt.Print(string(o))
	page, err := os.ReadFile(absOut)
	if err != nil {
		return err
	}
	if refs := externalRefs(page); len(refs) > 0 {
		return fmt.Errorf("%s refers to what is outside it: %s", out, strings.Join(refs, ", "))
	}
	fmt.Printf("%s: %d bytes; %d PNG figures, %d -> %d bytes\n", out, len(page), stats.images, stats.before, stats.after)
	return nil
}

type pngStats struct{ images, before, after int }

// prepare re-encodes the notebook's PNG outputs, applies the replacements to its outputs' text and
// asks for Go highlighting (the GoNB kernel leaves pygments_lexer empty, and nbconvert then
// highlights as Python).
func prepare(data []byte, repl replacements) ([]byte, pngStats, error) {
	var st pngStats
	var nb map[string]any
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, st, err
	}
	cells, _ := nb["cells"].([]any)
	for _, c := range cells {
		cell, _ := c.(map[string]any)
		outputs, _ := cell["outputs"].([]any)
		for _, o := range outputs {
			output, _ := o.(map[string]any)
			if d, ok := output["data"].(map[string]any); ok {
				if p, ok := d["image/png"]; ok {
					small, before, err := shrink(p)
					if err != nil {
						return nil, st, err
					}
					d["image/png"] = small
					st.images++
					st.before += before
					st.after += base64.StdEncoding.DecodedLen(len(small))
				}
				for k, v := range d {
					if k != "image/png" {
						d[k] = replace(v, repl)
					}
				}
			}
			for _, k := range []string{"text", "traceback", "evalue"} {
				if v, ok := output[k]; ok {
					output[k] = replace(v, repl)
				}
			}
		}
	}
	md, _ := nb["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		nb["metadata"] = md
	}
	li, _ := md["language_info"].(map[string]any)
	if li == nil {
		li = map[string]any{"name": "go"}
		md["language_info"] = li
	}
	li["pygments_lexer"] = "go"
	b, err := json.Marshal(nb)
	return b, st, err
}

// shrink re-encodes a base64 PNG (a string, or a list of lines as Jupyter may store it).
func shrink(v any) (string, int, error) {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case []any:
		var b strings.Builder
		for _, l := range t {
			b.WriteString(fmt.Sprint(l))
		}
		s = b.String()
	default:
		return "", 0, fmt.Errorf("image/png output is a %T", v)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return "", 0, fmt.Errorf("image/png output: %w", err)
	}
	small, err := pngquant.Shrink(raw, 256)
	if err != nil {
		return "", 0, err
	}
	return base64.StdEncoding.EncodeToString(small), len(raw), nil
}

// replace applies repl to a string or a list of strings.
func replace(v any, repl replacements) any {
	switch t := v.(type) {
	case string:
		for _, r := range repl {
			t = strings.ReplaceAll(t, r[0], r[1])
		}
		return t
	case []any:
		for i := range t {
			t[i] = replace(t[i], repl)
		}
		return t
	}
	return v
}

var refRe = regexp.MustCompile(`(?i)<(?:script|img|link|iframe|source|video|audio)\b[^>]*?\s(?:src|href)\s*=\s*["']?([^"'\s>]+)`)

// externalRefs lists what the page would load from outside itself: any src/href of a script,
// image, stylesheet or frame that is not a data: URI or an anchor in the page.
func externalRefs(page []byte) []string {
	var refs []string
	for _, m := range refRe.FindAllSubmatch(page, -1) {
		u := string(m[1])
		if strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "#") {
			continue
		}
		refs = append(refs, u)
	}
	if bytes.Contains(page, []byte("@import")) || bytes.Contains(page, []byte("url(http")) {
		refs = append(refs, "a stylesheet import or url()")
	}
	return refs
}
