// Package backend selects the GoMLX backend the project runs on: the project's pure-Go CPU backend
// ("cpu": simplego with the hot ops on the project's kernels, see CPUName) by default, or whatever
// $GOMLX_BACKEND names: "go" (plain simplego), or the XLA backend with a CUDA PJRT plugin,
// GOMLX_BACKEND=xla:/abs/path/pjrt_c_api_cuda_plugin.so.
//
// GoMLX's own default is XLA when it is compiled in; this project defaults to a pure-Go backend so
// that everything runs on a laptop with no download.
package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/default" // registers "go" (simplego) and, on linux/amd64 and darwin, "xla"
)

// Default is the configuration used when $GOMLX_BACKEND is unset: the project's CPU backend, with
// its ops run one after the other. simplego v0.26.0 otherwise runs independent ops of a graph in
// parallel on its worker pool, and its matrix products wait on the same pool for their own
// sub-tasks: with the two matrix products of a dense layer's gradient running side by side on a
// 2-core machine every worker ends up waiting and the step deadlocks. Each op still uses all cores.
const Default = CPUName + ":ops_sequential"

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

// XLACacheEnv names the environment variable that configures XLA's per-fusion autotune cache for
// the XLA backend: a directory, or "off". Unset or empty means DefaultXLACacheDir().
const XLACacheEnv = "CONFCAL_XLA_CACHE"

// autotuneCacheFlag is XLA's flag for a directory of per-fusion autotuning results, read and
// written by every compilation. The directory must exist.
const autotuneCacheFlag = "--xla_gpu_per_fusion_autotune_cache_dir"

// DefaultXLACacheDir is where the XLA backend keeps XLA's autotuning results unless
// $CONFCAL_XLA_CACHE says otherwise: <user cache dir>/confcal/xla-autotune (on Linux
// $XDG_CACHE_HOME or ~/.cache), so it is per user. XLA keys each entry by the GPU model and the
// fusion's HLO, so one directory serves several GPU models; a different XLA (plugin) version may
// need a fresh directory. It returns "" when the user has no cache directory.
func DefaultXLACacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil || dir == "" {
		return ""
	}
	return filepath.Join(dir, "confcal", "xla-autotune")
}

// autotuneFlags returns XLA_FLAGS (xlaFlags) with the autotune cache flag added for the XLA backend
// configuration config, and the directory it names (to be created), or xlaFlags unchanged and ""
// when nothing is to be added: the configuration is not XLA or names the CPU plugin, XLA_FLAGS
// already sets the flag, the setting (the value of $CONFCAL_XLA_CACHE) is "off", or there is no
// directory to use (setting empty and defaultDir empty). A directory with white space is refused
// (XLA_FLAGS is split at spaces) with an error.
func autotuneFlags(config, xlaFlags, setting, defaultDir string) (flags, dir string, err error) {
	name, plugin, _ := strings.Cut(config, ":")
	plugin, _, _ = strings.Cut(plugin, ",")
	switch name {
	case "xla", "stablehlo", "hlo", "shlo":
	default:
		return xlaFlags, "", nil
	}
	if plugin == "cpu" || strings.Contains(xlaFlags, autotuneCacheFlag[2:]) {
		return xlaFlags, "", nil
	}
	setting = strings.TrimSpace(setting)
	if strings.EqualFold(setting, "off") {
		return xlaFlags, "", nil
	}
	dir = setting
	if dir == "" {
		dir = defaultDir
	}
	if dir == "" {
		return xlaFlags, "", nil
	}
	if strings.ContainsAny(dir, " \t\n") {
		return xlaFlags, "", fmt.Errorf("%s=%q: the XLA autotune cache directory must not contain white space", XLACacheEnv, dir)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return strings.TrimSpace(xlaFlags + " " + autotuneCacheFlag + "=" + dir), dir, nil
}

// setAutotuneCache adds the autotune cache flag to $XLA_FLAGS, and creates its directory, before
// the XLA backend for config is created (XLA reads $XLA_FLAGS once, when the plugin first needs
// its options). Problems are reported on stderr and leave XLA_FLAGS as it was: the cache only
// saves compile time.
func setAutotuneCache(config string) {
	flags, dir, err := autotuneFlags(config, os.Getenv("XLA_FLAGS"), os.Getenv(XLACacheEnv), DefaultXLACacheDir())
	if err == nil && dir != "" {
		err = os.MkdirAll(dir, 0o755)
	}
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "confcal: no XLA autotune cache (%v); set %s to a directory or \"off\"\n", err, XLACacheEnv)
	case dir != "":
		_ = os.Setenv("XLA_FLAGS", flags)
	}
}

// New returns the backend for Config(), shared by all callers in the process (a backend holds
// device state and compiled programs; creating one per experiment would waste both). For the XLA
// backend it turns off GoMLX's plugin auto-install (which needs the internet) unless the user set
// GOMLX_NO_AUTO_INSTALL explicitly, sets GOPJRT_CUDA_CHECKS=0 unless set (go-xla v0.1.4 would
// otherwise put a hard-coded path into XLA_FLAGS), and, unless XLA_FLAGS already has it or
// $CONFCAL_XLA_CACHE is "off", adds XLA's per-fusion autotune cache directory to XLA_FLAGS
// ($CONFCAL_XLA_CACHE, or DefaultXLACacheDir()): the first compilation of a model on a GPU model
// autotunes its convolutions and matrix products (about a minute for VGG-13 on an H100), later
// ones read the results back.
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
		setAutotuneCache(config)
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
