package models_test

import (
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/models"
)

// An inference graph never creates a variable: under a wrong scope (or before training) it fails
// naming the missing variable instead of silently using fresh random weights.
func TestInferFailsOnMissingVariables(t *testing.T) {
	be := backend.Must()
	net := models.Net{Scope: models.ClassifierScope, Fn: models.MLP([]int{4}, 2)}
	x := []float32{1, 2, 3, 4}
	p, err := models.NewPredictor(be, context.New(), net, 2)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Outputs(x, 2)
	if err == nil || !strings.Contains(err.Error(), "weights") || !strings.Contains(err.Error(), "/classifier/layer_0") {
		t.Fatalf("inference on an empty context: got error %v, want one naming /classifier/layer_0's weights", err)
	}

	ctx := context.New()
	if err := models.Initialize(be, ctx, net, 2); err != nil {
		t.Fatal(err)
	}
	wrong := models.Net{Scope: "other", Fn: net.Fn}
	if p, err = models.NewPredictor(be, ctx, wrong, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Outputs(x, 2); err == nil || !strings.Contains(err.Error(), "/other/layer_0") {
		t.Fatalf("inference under a wrong scope: got error %v, want one naming /other/layer_0", err)
	}
	if p, err = models.NewPredictor(be, ctx, net, 2); err != nil {
		t.Fatal(err)
	}
	a, err := p.Outputs(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Initialize again keeps the values.
	if err := models.Initialize(be, ctx, net, 2); err != nil {
		t.Fatal(err)
	}
	b, err := p.Outputs(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Fatalf("Initialize changed existing variables: %v then %v", a, b)
			}
		}
	}
}
