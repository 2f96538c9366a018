// Package backend selects the GoMLX backend the project runs on: the pure-Go CPU backend ("go",
// simplego) by default, or whatever $GOMLX_BACKEND names, e.g. the XLA backend with a CUDA PJRT
// plugin: GOMLX_BACKEND=xla:/abs/path/pjrt_c_api_cuda_plugin.so.
//
// GoMLX's own default is XLA when it is compiled in; this project defaults to the pure-Go backend so
// that everything runs on a laptop with no download.
package backend

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/default" // registers "go" (simplego) and, on linux/amd64 and darwin, "xla"
)

// Default is the configuration used when $GOMLX_BACKEND is unset: the pure-Go CPU backend, with its
// ops run one after the other. simplego v0.26.0 otherwise runs independent ops of a graph in
// parallel on its worker pool, and its matrix products wait on the same pool for their own
// sub-tasks: with the two matrix products of a dense layer's gradient running side by side on a
// 2-core machine every worker ends up waiting and the step deadlocks. Each op still uses all cores.
const Default = "go:ops_sequential"

var (
	mu     sync.Mutex
	shared = map[string]backends.Backend{}
)

// Config returns the backend configuration in force: $GOMLX_BACKEND, or Default.
func Config() string {
	if c := strings.TrimSpace(os.Getenv(backends.ConfigEnvVar)); c != "" {
		return c
	}
	return Default
}

// New returns the backend for Config(), shared by all callers in the process (a backend holds
// device state and compiled programs; creating one per experiment would waste both). For the XLA
// backend it turns off GoMLX's plugin auto-install (which needs the internet) unless the user set
// GOMLX_NO_AUTO_INSTALL explicitly.
func New() (backends.Backend, error) {
	return NewWithConfig(Config())
}

// NewWithConfig is New for an explicit configuration "name[:options]".
func NewWithConfig(config string) (b backends.Backend, err error) {
	mu.Lock()
	defer mu.Unlock()
	if b, ok := shared[config]; ok && !b.IsFinalized() {
		return b, nil
	}
	if strings.HasPrefix(config, "xla") {
		if _, set := os.LookupEnv("GOMLX_NO_AUTO_INSTALL"); !set {
			_ = os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
		}
		if _, set := os.LookupEnv("GOPJRT_CUDA_CHECKS"); !set {
			_ = os.Setenv("GOPJRT_CUDA_CHECKS", "0")
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("backend %q: %v (available: %s; set %s=name[:options])", config, r,
				strings.Join(backends.List(), ", "), backends.ConfigEnvVar)
		}
	}()
	b, err = backends.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", config, err)
	}
	shared[config] = b
	return b, nil
}

// Must is New that panics on error, for notebooks and tests.
func Must() backends.Backend {
	b, err := New()
	if err != nil {
		panic(err)
	}
	return b
}
