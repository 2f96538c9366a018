package backend

import (
	"strings"
	"testing"
)

func TestDefaultIsPureGo(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.Name(), "(go)") {
		t.Fatalf("default backend is %q, want the pure-Go backend", b.Name())
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
