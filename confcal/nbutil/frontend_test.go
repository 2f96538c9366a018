package nbutil

import (
	"testing"
	"time"
)

func TestSettings(t *testing.T) {
	for _, tc := range []struct{ env, set, want string }{
		{"", "", ""},
		{"preset=quick", "", "preset=quick"},
		{"", "beta=0.5", "beta=0.5"},
		{" preset=quick ", "preset=paper;beta=2", "preset=quick;preset=paper;beta=2"},
	} {
		t.Setenv(SetEnv, tc.env)
		if got := Settings(tc.set); got != tc.want {
			t.Errorf("CONFCAL_SET=%q: Settings(%q) = %q, want %q", tc.env, tc.set, got, tc.want)
		}
	}
}

// Outside a notebook (a test binary) there is no front end, and FrontEnd does not wait.
func TestFrontEndOutsideNotebook(t *testing.T) {
	start := time.Now()
	if FrontEnd(10 * time.Second) {
		t.Error("FrontEnd() = true outside a notebook")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("FrontEnd took %v outside a notebook", d)
	}
}
