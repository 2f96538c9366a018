package backend

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultIsPureGo(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != CPUName || !strings.Contains(b.Name(), "simplego") {
		t.Fatalf("default backend is %q (%s), want the project's pure-Go CPU backend", b.Name(), b)
	}
	b2, _ := New()
	if b2 != b {
		t.Fatal("New should share one backend per configuration")
	}
}

func TestUnknownBackendIsAClearError(t *testing.T) {
	_, err := NewWithConfig("nosuchbackend")
	if err == nil || !strings.Contains(err.Error(), "nosuchbackend") {
		t.Fatalf("got %v, want an error naming the backend", err)
	}
}

func TestAutotuneFlags(t *testing.T) {
	const def = "/home/u/.cache/confcal/xla-autotune"
	const flag = "--xla_gpu_per_fusion_autotune_cache_dir="
	for _, c := range []struct {
		name, config, xlaFlags, setting string
		wantFlags, wantDir              string
		wantErr                         bool
	}{
		{name: "pure Go backend: untouched", config: "go:ops_sequential", xlaFlags: "--a=1", wantFlags: "--a=1"},
		{name: "XLA CPU plugin: untouched", config: "xla:cpu", wantFlags: ""},
		{name: "CUDA plugin, no XLA_FLAGS: default dir", config: "xla:/p/xla_cuda_plugin.so",
			wantFlags: flag + def, wantDir: def},
		{name: "appended to other flags, plugin options ignored", config: "xla:/p/cuda.so,tf32", xlaFlags: "--xla_gpu_autotune_level=4",
			wantFlags: "--xla_gpu_autotune_level=4 " + flag + def, wantDir: def},
		{name: "alias and bare xla", config: "stablehlo", wantFlags: flag + def, wantDir: def},
		{name: "already in XLA_FLAGS: untouched", config: "xla:cuda", xlaFlags: "--x " + flag + "/mine", setting: "/other",
			wantFlags: "--x " + flag + "/mine"},
		{name: "env names a directory", config: "xla:cuda", setting: " /data/tune ", wantFlags: flag + "/data/tune", wantDir: "/data/tune"},
		{name: "off", config: "xla:cuda", xlaFlags: "--a", setting: "OFF", wantFlags: "--a"},
		{name: "no user cache dir", config: "xla:cuda", wantFlags: ""},
		{name: "white space refused", config: "xla:cuda", setting: "/my dir", wantFlags: "", wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			defDir := def
			if c.name == "no user cache dir" {
				defDir = ""
			}
			flags, dir, err := autotuneFlags(c.config, c.xlaFlags, c.setting, defDir)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error: %v", err, c.wantErr)
			}
			if flags != c.wantFlags || dir != c.wantDir {
				t.Fatalf("got (%q, %q), want (%q, %q)", flags, dir, c.wantFlags, c.wantDir)
			}
		})
	}
}

func TestAutotuneFlagsRelativeDirMadeAbsolute(t *testing.T) {
	flags, dir, err := autotuneFlags("xla:cuda", "", "rel/cache", "")
	if err != nil || !filepath.IsAbs(dir) || !strings.HasSuffix(flags, "="+dir) {
		t.Fatalf("got (%q, %q, %v), want an absolute directory in the flag", flags, dir, err)
	}
}

func TestDefaultXLACacheDirIsPerUser(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg-cache-test")
	t.Setenv("HOME", "/tmp/home-test")
	if got, want := DefaultXLACacheDir(), "/tmp/xdg-cache-test/confcal/xla-autotune"; got != want {
		t.Fatalf("DefaultXLACacheDir() = %q, want %q", got, want)
	}
}
