// Package optim holds an Adam optimizer (Kingma & Ba, 2014) that updates the trainable variables of
// one network only: those under one scope of the context.
//
// GoMLX's own optimizers differentiate the loss with respect to every trainable variable the graph
// touches. Algorithm 1 of the paper needs three updates per iteration — discriminator, generator,
// classifier — each of its own network, with its own Adam state and learning rate, while the losses
// of the generator and of the classifier each run through the other networks. Adam here takes the
// network's scope, differentiates only with respect to that network's variables, and keeps its
// moments, step count and learning rate under a scope of its own (StateScope), so that the three
// optimizers never share or overwrite state, and the learning rate can be changed between steps
// (lr × 0.1 at epoch 60 in the paper) without rebuilding the graph.
package optim

import (
	"math"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/pkg/errors"
)

// StateScope is the top-level scope under which each Adam keeps its state, in a sub-scope named
// after the network: e.g. /optimizer/classifier/step.
const StateScope = "optimizer"

// Adam updates the trainable variables under Scope (e.g. "classifier") with Adam.
type Adam struct {
	// Scope is the network's top-level scope, without leading separator: "generator" selects the
	// variables whose scope is /generator or below it.
	Scope string
	// LearningRate is the initial learning rate (stored in a variable; see SetLearningRate).
	LearningRate float64
	// Beta1, Beta2 and Epsilon are Adam's constants. Zero values mean 0.9, 0.999 and 1e-8, as
	// PyTorch's defaults (the authors' code uses them; the DCGAN setting uses Beta1 = 0.5).
	Beta1, Beta2, Epsilon float64
}

func (a Adam) withDefaults() Adam {
	if a.Beta1 == 0 {
		a.Beta1 = 0.9
	}
	if a.Beta2 == 0 {
		a.Beta2 = 0.999
	}
	if a.Epsilon == 0 {
		a.Epsilon = 1e-8
	}
	return a
}

// Validate checks the configuration.
func (a Adam) Validate() error {
	a = a.withDefaults()
	switch {
	case a.Scope == "" || strings.Contains(a.Scope, context.ScopeSeparator):
		return errors.Errorf("optim.Adam: scope must be a top-level scope name without %q, got %q", context.ScopeSeparator, a.Scope)
	case !(a.LearningRate > 0) || math.IsInf(a.LearningRate, 0):
		return errors.Errorf("optim.Adam(%s): learning rate must be > 0, got %v", a.Scope, a.LearningRate)
	case !(a.Beta1 > 0 && a.Beta1 < 1) || !(a.Beta2 > 0 && a.Beta2 < 1):
		return errors.Errorf("optim.Adam(%s): betas must be in (0,1), got %v, %v", a.Scope, a.Beta1, a.Beta2)
	case !(a.Epsilon > 0):
		return errors.Errorf("optim.Adam(%s): epsilon must be > 0, got %v", a.Scope, a.Epsilon)
	}
	return nil
}

// InScope reports whether a variable scope (as Variable.Scope returns it) lies under the network's
// top-level scope.
func InScope(varScope, network string) bool {
	root := context.ScopeSeparator + network
	return varScope == root || strings.HasPrefix(varScope, root+context.ScopeSeparator)
}

// Variables returns the trainable variables of the network that graph g uses, in the context's
// deterministic iteration order.
func (a Adam) Variables(ctx *context.Context, g *Graph) []*context.Variable {
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		if v.Trainable && InScope(v.Scope(), a.Scope) && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	return vars
}

// Update adds to loss's graph one Adam step on the network's variables, minimising loss (a scalar).
// Only the network's own trainable variables are differentiated and changed; every other variable
// the loss runs through is left as it is. It panics (the GoMLX way; Exec turns it into an error) if
// the graph uses no trainable variable of the network.
func (a Adam) Update(ctx *context.Context, loss *Node) {
	if err := a.Validate(); err != nil {
		panic(err)
	}
	a = a.withDefaults()
	if !loss.Shape().IsScalar() {
		panic(errors.Errorf("optim.Adam(%s): loss must be a scalar, got %s", a.Scope, loss.Shape()))
	}
	g := loss.Graph()
	vars := a.Variables(ctx, g)
	if len(vars) == 0 {
		panic(errors.Errorf("optim.Adam(%s): the loss graph uses no trainable variable under scope /%s", a.Scope, a.Scope))
	}
	nodes := make([]*Node, len(vars))
	for i, v := range vars {
		nodes[i] = v.ValueGraph(g)
	}
	grads := Gradient(loss, nodes...)

	dtype := dtypes.Float32
	state := stateContext(ctx, a.Scope)
	stepVar := state.VariableWithValue("step", float32(0)).SetTrainable(false)
	step := AddScalar(stepVar.ValueGraph(g), 1)
	stepVar.SetValueGraph(step)
	lr := learningRateVar(ctx, a.Scope, a.LearningRate).ValueGraph(g)

	beta1 := Scalar(g, dtype, a.Beta1)
	beta2 := Scalar(g, dtype, a.Beta2)
	debias1 := Reciprocal(OneMinus(Pow(beta1, step)))
	debias2 := Reciprocal(OneMinus(Pow(beta2, step)))
	eps := Scalar(g, dtype, a.Epsilon)

	for i, v := range vars {
		grad := grads[i]
		if grad.DType() != dtype {
			grad = ConvertDType(grad, dtype)
		}
		m1Var, m2Var := momentVars(state, v, dtype)
		m1 := Add(Mul(beta1, m1Var.ValueGraph(g)), Mul(OneMinus(beta1), grad))
		m2 := Add(Mul(beta2, m2Var.ValueGraph(g)), Mul(OneMinus(beta2), Square(grad)))
		m1Var.SetValueGraph(m1)
		m2Var.SetValueGraph(m2)
		// PyTorch's form: θ -= lr · m̂ / (sqrt(v̂) + ε).
		stepDir := Div(Mul(lr, Mul(m1, debias1)), Add(Sqrt(Mul(m2, debias2)), eps))
		value := nodes[i]
		if value.DType() != dtype {
			value = ConvertDType(value, dtype)
		}
		updated := Sub(value, stepDir)
		if v.DType() != dtype {
			updated = ConvertDType(updated, v.DType())
		}
		v.SetValueGraph(updated)
	}
}

func stateContext(ctx *context.Context, network string) *context.Context {
	return ctx.InAbsPath(context.ScopeSeparator + StateScope + context.ScopeSeparator + network).Checked(false)
}

func momentVars(state *context.Context, v *context.Variable, dtype dtypes.DType) (m1, m2 *context.Variable) {
	// Mirror the variable's scope under the state scope, so names never collide.
	ctx := state.InAbsPath(state.Scope() + v.Scope()).Checked(false).WithInitializer(initializers.Zero)
	shape := shapes.Make(dtype, v.Shape().Dimensions...)
	m1 = ctx.VariableWithShape(v.Name()+"_m1", shape).SetTrainable(false)
	m2 = ctx.VariableWithShape(v.Name()+"_m2", shape).SetTrainable(false)
	return
}

func learningRateVar(ctx *context.Context, network string, initial float64) *context.Variable {
	return stateContext(ctx, network).VariableWithValue("learning_rate", float32(initial)).SetTrainable(false)
}

// SetLearningRate changes the learning rate of the network's optimizer for the following steps; the
// compiled step graph reads it from a variable, so no recompilation happens. It fails if the
// optimizer has not run yet (the variable is created by the first step's graph).
func SetLearningRate(ctx *context.Context, network string, lr float64) error {
	if !(lr > 0) {
		return errors.Errorf("learning rate of %s must be > 0, got %v", network, lr)
	}
	v := ctx.InspectVariable(stateContext(ctx, network).Scope(), "learning_rate")
	if v == nil {
		return errors.Errorf("network %q has no optimizer state yet (no training step has run)", network)
	}
	return v.SetValue(tensors.FromScalar(float32(lr)))
}

// LearningRate returns the current learning rate of the network's optimizer.
func LearningRate(ctx *context.Context, network string) (float64, error) {
	v := ctx.InspectVariable(stateContext(ctx, network).Scope(), "learning_rate")
	if v == nil {
		return 0, errors.Errorf("network %q has no optimizer state yet", network)
	}
	t, err := v.Value()
	if err != nil {
		return 0, err
	}
	return float64(tensors.ToScalar[float32](t)), nil
}

// Steps returns how many updates the network's optimizer has made.
func Steps(ctx *context.Context, network string) int {
	v := ctx.InspectVariable(stateContext(ctx, network).Scope(), "step")
	if v == nil {
		return 0
	}
	t, err := v.Value()
	if err != nil {
		return 0
	}
	return int(tensors.ToScalar[float32](t))
}
