package backend

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/confcal/confcal/internal/fields"
)

// The "cpu" backend is simplego with its DotGeneral executor replaced. simplego v0.26.0 (pinned in
// go.mod) keeps its op executors in an unexported table and exposes no hook, so the table and the
// buffer allocator are reached by linkname, and the few unexported fields read (a node's shape and
// parameters, a buffer's shape and data) are located by reflection when the program starts; when
// anything is not where it is expected (another GoMLX version), the replacement is not installed,
// the "cpu" backend runs simplego's own kernel, and CPUStatus says why.

// simplegoExecutor is simplego's nodeExecutor type.
type simplegoExecutor = func(*simplego.Backend, *simplego.Node, []*simplego.Buffer, []bool) (*simplego.Buffer, error)

//go:linkname simplegoNodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var simplegoNodeExecutors [backends.OpTypeLast]simplegoExecutor

//go:linkname simplegoGetBufferForShape github.com/gomlx/gomlx/backends/simplego.(*Backend).getBufferForShape
func simplegoGetBufferForShape(b *simplego.Backend, shape shapes.Shape) *simplego.Buffer

// fieldAt is the byte offset of an unexported struct field whose type was checked.
type fieldAt uintptr

// findField returns the offset of field name of struct type t, checking its type.
func findField(t reflect.Type, name string, want reflect.Type) (fieldAt, error) {
	f, ok := t.FieldByName(name)
	if !ok {
		return 0, fmt.Errorf("%s has no field %q", t, name)
	}
	if f.Type != want {
		return 0, fmt.Errorf("%s.%s is a %s, expected %s", t, name, f.Type, want)
	}
	return fieldAt(f.Offset), nil
}

var (
	shapeType = reflect.TypeFor[shapes.Shape]()
	anyType   = reflect.TypeFor[any]()
)

// internals holds where simplego keeps what the replacement reads.
type internals struct {
	nodeShape, nodeData, nodeInputs, nodeOpType, bufShape, bufFlat fieldAt
}

// findInternals locates the fields, or says what is missing.
func findInternals() (in internals, err error) {
	node, buf := reflect.TypeFor[simplego.Node](), reflect.TypeFor[simplego.Buffer]()
	for _, f := range []struct {
		dst  *fieldAt
		t    reflect.Type
		name string
		want reflect.Type
	}{
		{&in.nodeShape, node, "shape", shapeType},
		{&in.nodeData, node, "data", anyType},
		{&in.nodeInputs, node, "inputs", reflect.TypeFor[[]*simplego.Node]()},
		{&in.nodeOpType, node, "opType", reflect.TypeFor[backends.OpType]()},
		{&in.bufShape, buf, "shape", shapeType},
		{&in.bufFlat, buf, "flat", anyType},
	} {
		if *f.dst, err = findField(f.t, f.name, f.want); err != nil {
			return in, err
		}
	}
	if simplegoNodeExecutors[backends.OpTypeDotGeneral] == nil {
		return in, fmt.Errorf("simplego has no DotGeneral executor registered")
	}
	return in, nil
}

func (in internals) nodeShapeOf(n *simplego.Node) shapes.Shape {
	return *(*shapes.Shape)(unsafe.Add(unsafe.Pointer(n), in.nodeShape))
}

func (in internals) nodeDataOf(n *simplego.Node) any {
	return *(*any)(unsafe.Add(unsafe.Pointer(n), in.nodeData))
}

func (in internals) nodeInputsOf(n *simplego.Node) []*simplego.Node {
	return *(*[]*simplego.Node)(unsafe.Add(unsafe.Pointer(n), in.nodeInputs))
}

func (in internals) nodeOpTypeOf(n *simplego.Node) backends.OpType {
	return *(*backends.OpType)(unsafe.Add(unsafe.Pointer(n), in.nodeOpType))
}

func (in internals) bufShapeOf(b *simplego.Buffer) shapes.Shape {
	return *(*shapes.Shape)(unsafe.Add(unsafe.Pointer(b), in.bufShape))
}

// float32sOf returns a float32 buffer's data (nil for another type).
func (in internals) float32sOf(b *simplego.Buffer) []float32 {
	flat, _ := (*(*any)(unsafe.Add(unsafe.Pointer(b), in.bufFlat))).([]float32)
	return flat
}

// anyFlatOf returns a buffer's data slice, whatever its type.
func (in internals) anyFlatOf(b *simplego.Buffer) any {
	return *(*any)(unsafe.Add(unsafe.Pointer(b), in.bufFlat))
}

// dotParams are the fields of simplego's dotGeneralNodeData the replacement needs.
type dotParams struct {
	lhsContracting, lhsBatch, rhsContracting, rhsBatch []int
}

// readDotParams reads a DotGeneral node's parameters (a *dotGeneralNodeData) by reflection.
func readDotParams(data any) (p dotParams, err error) {
	f, ok := fields.Of(data)
	if !ok {
		return p, fmt.Errorf("DotGeneral node data is a %T, expected a pointer to a struct", data)
	}
	for _, fl := range []struct {
		dst  *[]int
		name string
	}{
		{&p.lhsContracting, "lhsContractingAxes"}, {&p.lhsBatch, "lhsBatchAxes"},
		{&p.rhsContracting, "rhsContractingAxes"}, {&p.rhsBatch, "rhsBatchAxes"},
	} {
		if *fl.dst, ok = f.Ints(fl.name); !ok {
			return p, fmt.Errorf("DotGeneral node data %T has no []int field %q", data, fl.name)
		}
	}
	return p, nil
}
