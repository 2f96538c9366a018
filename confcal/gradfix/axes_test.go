package gradfix

import (
	"fmt"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/confcal/confcal/confcal/backend"
)

// The axes of a DotGeneral are read from GoMLX's node (so that this package's gradient is the one
// used), and the gradient graph of a matrix DotGeneral has no Transpose.
func TestDotGeneralAxesAreRead(t *testing.T) {
	g := NewGraph(backend.Must(), "axes")
	a := Parameter(g, "a", shapes.Make(dtypes.Float32, 4, 3))
	b := Parameter(g, "b", shapes.Make(dtypes.Float32, 5, 4))
	c := DotGeneral(a, []int{0}, nil, b, []int{1}, nil)
	ca, ba, cb, bb, ok := dotGeneralAxes(c)
	if !ok || fmt.Sprint(ca, ba, cb, bb) != "[0] [] [1] []" {
		t.Fatalf("dotGeneralAxes = %v %v %v %v, %v; want [0] [] [1] [], true", ca, ba, cb, bb, ok)
	}
	grads := Gradient(ReduceAllSum(c), a, b)
	if !grads[0].Shape().Equal(a.Shape()) || !grads[1].Shape().Equal(b.Shape()) {
		t.Fatalf("gradient shapes %s %s", grads[0].Shape(), grads[1].Shape())
	}
	for _, n := range g.Nodes() {
		if n.Type() == NodeTypeTranspose {
			t.Errorf("gradient graph has a Transpose: %s", n)
		}
	}
}
