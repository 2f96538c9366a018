package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"testing"
)

func TestExternalRefs(t *testing.T) {
	page := []byte(`<html><head><script src="https://cdn.example/MathJax.js"></script>
<link rel="stylesheet" href="style.css"><script>var x = 1;</script></head>
<body><img src="data:image/png;base64,AAAA"><img src='file:///usr/share/x.png'>
<a href="https://example.org">a link is fine</a><img alt="x" src=#top></body></html>`)
	want := []string{"https://cdn.example/MathJax.js", "style.css", "file:///usr/share/x.png"}
	if got := externalRefs(page); !slices.Equal(got, want) {
		t.Errorf("externalRefs = %q, want %q", got, want)
	}
	if got := externalRefs([]byte(`<style>@import url(http://x/y.css);</style>`)); len(got) != 1 {
		t.Errorf("externalRefs missed an @import: %q", got)
	}
}

func TestPrepare(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 50, 40))
	for y := range 40 {
		for x := range 50 {
			img.Set(x, y, color.NRGBA{R: uint8(5 * x), G: uint8(6 * y), B: uint8(x * y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(buf.Bytes())
	nb := map[string]any{
		"cells": []any{map[string]any{
			"cell_type": "code", "source": "fmt.Println(out)",
			"outputs": []any{
				map[string]any{"output_type": "stream", "name": "stdout", "text": []any{"output /home/me/repo/out/toy2d\n", "done\n"}},
				map[string]any{"output_type": "display_data", "data": map[string]any{"image/png": b64[:20] + "\n" + b64[20:], "text/plain": "in /home/me/repo"}},
			},
		}},
		"metadata": map[string]any{"language_info": map[string]any{"name": "go", "pygments_lexer": ""}},
		"nbformat": 4, "nbformat_minor": 5,
	}
	data, _ := json.Marshal(nb)
	out, st, err := prepare(data, replacements{{"/home/me/repo", "."}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "/home/me") || !strings.Contains(s, "output ./out/toy2d") || !strings.Contains(s, `"in ."`) {
		t.Errorf("replacements not applied: %s", s)
	}
	if !strings.Contains(s, `"pygments_lexer":"go"`) {
		t.Errorf("pygments_lexer not set to go: %s", s)
	}
	if st.images != 1 || st.before != buf.Len() || st.after <= 0 {
		t.Errorf("stats %+v, want 1 image of %d bytes", st, buf.Len())
	}
	var back struct {
		Cells []struct {
			Outputs []struct {
				Data map[string]string `json:"data"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(back.Cells[0].Outputs[1].Data["image/png"])
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(raw))
	if err != nil || got.Bounds() != img.Bounds() {
		t.Fatalf("the re-encoded PNG does not decode to a 50×40 image: %v", err)
	}
}
