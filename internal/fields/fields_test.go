package fields

import (
	"fmt"
	"testing"
)

type inner struct {
	axes  []int
	n     int
	other []int32
}

type outer struct {
	in    any
	ptr   *inner
	count int
}

func TestFields(t *testing.T) {
	o := &outer{in: &inner{axes: []int{2, 0}, n: 7}, ptr: &inner{axes: []int{1}}}
	s, ok := Of(o)
	if !ok {
		t.Fatal("Of(*outer) failed")
	}
	in, ok := s.Struct("in") // through an interface
	if !ok {
		t.Fatal("Struct(in) failed")
	}
	axes, ok1 := in.Ints("axes")
	n, ok2 := in.Int("n")
	if !ok1 || !ok2 || fmt.Sprint(axes) != "[2 0]" || n != 7 {
		t.Errorf("in: axes %v (%v), n %d (%v)", axes, ok1, n, ok2)
	}
	if p, ok := s.Struct("ptr"); !ok {
		t.Error("Struct(ptr) failed")
	} else if a, _ := p.Ints("axes"); fmt.Sprint(a) != "[1]" {
		t.Errorf("ptr.axes = %v", a)
	}
	// Missing fields and wrong types are refused.
	if _, ok := in.Ints("other"); ok {
		t.Error("[]int32 read as []int")
	}
	if _, ok := in.Ints("nope"); ok {
		t.Error("missing field read")
	}
	if _, ok := in.Int("axes"); ok {
		t.Error("[]int read as int")
	}
	if _, ok := s.Struct("count"); ok {
		t.Error("int followed as a pointer")
	}
	if _, ok := Of(outer{}); ok {
		t.Error("a struct value is not a pointer")
	}
	if _, ok := (Struct{}).Ints("axes"); ok {
		t.Error("zero Struct read")
	}
}

func TestCopy(t *testing.T) {
	type cfg struct{ A, B int }
	type node struct {
		pads [][2]int
		c    cfg
	}
	s, _ := Of(&node{pads: [][2]int{{1, 2}, {0, 3}}, c: cfg{4, 5}})
	var pads [][2]int
	var c cfg
	if !s.Copy("pads", &pads) || fmt.Sprint(pads) != "[[1 2] [0 3]]" {
		t.Errorf("Copy(pads) = %v", pads)
	}
	if !s.Copy("c", &c) || c != (cfg{4, 5}) {
		t.Errorf("Copy(c) = %+v", c)
	}
	var wrong []int
	if s.Copy("pads", &wrong) || s.Copy("nope", &pads) || s.Copy("c", c) || (Struct{}).Copy("c", &c) {
		t.Error("Copy accepted a wrong type, a missing field, a non-pointer or a zero Struct")
	}
}
