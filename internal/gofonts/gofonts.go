// Package gofonts gives the outlines of characters in the twelve faces of the Go font family
// (golang.org/x/image/font/gofont), for the image sets the project draws itself: mnist's letters
// A–J and svhn's stand-in house numbers.
package gofonts

import (
	"fmt"
	"slices"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/gomediumitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/gomonobolditalic"
	"golang.org/x/image/font/gofont/gomonoitalic"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/gofont/gosmallcaps"
	"golang.org/x/image/font/gofont/gosmallcapsitalic"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Face is one face of the Go font family.
type Face struct {
	Name string
	TTF  []byte
}

// Faces are the twelve faces of the Go font family.
var Faces = []Face{
	{"Go Regular", goregular.TTF},
	{"Go Bold", gobold.TTF},
	{"Go Italic", goitalic.TTF},
	{"Go Bold Italic", gobolditalic.TTF},
	{"Go Medium", gomedium.TTF},
	{"Go Medium Italic", gomediumitalic.TTF},
	{"Go Mono", gomono.TTF},
	{"Go Mono Bold", gomonobold.TTF},
	{"Go Mono Italic", gomonoitalic.TTF},
	{"Go Mono Bold Italic", gomonobolditalic.TTF},
	{"Go Smallcaps", gosmallcaps.TTF},
	{"Go Smallcaps Italic", gosmallcapsitalic.TTF},
}

// Glyph is a character's outline at 256 pixels per em (26.6 fixed point, y down) and its bounding
// box.
type Glyph struct {
	Segments sfnt.Segments
	Bounds   fixed.Rectangle26_6
}

// Load returns the glyphs of runes in every face: glyphs[f][i] is runes[i] in Faces[f]. A face
// without one of the runes, or with an empty outline for it, is an error naming both.
func Load(runes []rune) (glyphs [][]Glyph, err error) {
	var buf sfnt.Buffer
	for _, face := range Faces {
		f, err := sfnt.Parse(face.TTF)
		if err != nil {
			return nil, fmt.Errorf("parsing font %s: %w", face.Name, err)
		}
		gs := make([]Glyph, len(runes))
		for i, r := range runes {
			gi, err := f.GlyphIndex(&buf, r)
			if err == nil && gi == 0 {
				err = fmt.Errorf("no glyph")
			}
			if err != nil {
				return nil, fmt.Errorf("font %s, character %c: %w", face.Name, r, err)
			}
			segs, err := f.LoadGlyph(&buf, gi, fixed.I(256), nil)
			if err != nil {
				return nil, fmt.Errorf("font %s, character %c: %w", face.Name, r, err)
			}
			b := segs.Bounds()
			if b.Max.X <= b.Min.X || b.Max.Y <= b.Min.Y {
				return nil, fmt.Errorf("font %s, character %c: empty glyph", face.Name, r)
			}
			// The buffer's memory is reused by the next LoadGlyph.
			gs[i] = Glyph{Segments: slices.Clone(segs), Bounds: b}
		}
		glyphs = append(glyphs, gs)
	}
	return glyphs, nil
}
