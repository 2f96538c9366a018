package experiment

import (
	"github.com/gomlx/gomlx/backends"

	"github.com/confcal/confcal/confcal/metrics"
)

// evaluateODIN is replaced once the ODIN detector lands.
func evaluateODIN(b backends.Backend, d *Data, t *Trained) (map[string]ODINResult, error) {
	return nil, nil
}

// writeGuided is replaced once guided backprop lands.
func writeGuided(b backends.Backend, cfg Config, d *Data, t *Trained) (string, error) {
	return "", nil
}

var _ = metrics.Compute
