// Package fields reads int and []int fields, exported or not, of structs behind pointers, by
// reflection. GoMLX v0.26.0 keeps op parameters in unexported structs: confcal/gradfix reads a graph
// node's DotGeneral axes, confcal/backend the parameters of simplego's nodes. Every accessor says
// (ok = false) when a field is not there with the expected type, so that a different GoMLX version
// is detected rather than misread.
package fields

import (
	"reflect"
	"unsafe"
)

// Struct is a struct reached through a pointer.
type Struct struct{ v reflect.Value }

// Of returns the struct p points to; ok is false when p is not a non-nil pointer to a struct.
func Of(p any) (s Struct, ok bool) { return of(reflect.ValueOf(p)) }

func of(v reflect.Value) (Struct, bool) {
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return Struct{}, false
	}
	return Struct{v.Elem()}, true
}

// Struct returns the struct that field name points to (the field a pointer, or an interface
// holding one).
func (s Struct) Struct(name string) (Struct, bool) {
	if !s.v.IsValid() {
		return Struct{}, false
	}
	return of(s.v.FieldByName(name))
}

var intsType = reflect.TypeFor[[]int]()

// Ints returns a copy of the []int field name.
func (s Struct) Ints(name string) (out []int, ok bool) {
	if !s.v.IsValid() {
		return nil, false
	}
	f := s.v.FieldByName(name)
	if !f.IsValid() || f.Type() != intsType {
		return nil, false
	}
	out = make([]int, f.Len())
	for i := range out {
		out[i] = int(f.Index(i).Int())
	}
	return out, true
}

// Int returns the int field name.
func (s Struct) Int(name string) (int, bool) {
	if !s.v.IsValid() {
		return 0, false
	}
	f := s.v.FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Int {
		return 0, false
	}
	return int(f.Int()), true
}

// Copy copies field name into *dst (dst a non-nil pointer to a value of the field's exact type,
// e.g. *[][2]int or *backends.ConvolveAxesConfig); ok is false when there is no such field of that
// type. The struct must have been reached through a pointer (it is then addressable), which Of
// guarantees.
func (s Struct) Copy(name string, dst any) bool {
	if !s.v.IsValid() {
		return false
	}
	d := reflect.ValueOf(dst)
	if d.Kind() != reflect.Pointer || d.IsNil() {
		return false
	}
	f := s.v.FieldByName(name)
	if !f.IsValid() || f.Type() != d.Elem().Type() || !f.CanAddr() {
		return false
	}
	// An unexported field cannot be read through Interface(); its address can.
	d.Elem().Set(reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem())
	return true
}
