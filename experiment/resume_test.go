package experiment

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/loop"
)

// envResumeChild makes the test binary a training child that stops (blocks) after its first epoch.
const envResumeChild = "CONFCAL_TEST_RESUME_CHILD"

// TestResumeChild is the child process of TestKillAndResume: it trains the CE regime and, after
// the checkpoint of epoch 1 is written, blocks until it is killed.
func TestResumeChild(t *testing.T) {
	out := os.Getenv(envResumeChild)
	if out == "" {
		t.Skip("child process of TestKillAndResume")
	}
	afterEpoch = func(dir string, epoch int) {
		if epoch == 1 {
			os.Stdout.WriteString("CHECKPOINTED\n")
			select {} // wait to be killed
		}
	}
	cfg := tinyConfig(t, "regimes=ce;epochs=3")
	if _, err := Train(backend.Must(), cfg, tinyData(t, cfg), CrossEntropy, filepath.Join(out, "runs"), nil); err != nil {
		t.Fatal(err)
	}
}

// TestKillAndResume kills (SIGKILL) a training process after its first epoch, reruns the training,
// and checks that it resumes from the checkpoint and ends with exactly the weights of a run that was
// never interrupted.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three times")
	}
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeChild$", "-test.v")
	cmd.Env = append(os.Environ(), envResumeChild+"="+out)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(stdout.String(), "CHECKPOINTED") {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("child never checkpointed:\n%s", stdout.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	cfg := tinyConfig(t, "regimes=ce;epochs=3")
	d := tinyData(t, cfg)
	key := cfg.RunKey(d, CrossEntropy)
	ck, err := loop.ReadCheckpoint(filepath.Join(out, "runs", key, CheckpointFile))
	if err != nil {
		t.Fatalf("after the kill: %v", err)
	}
	if ck.Epoch != 1 {
		t.Fatalf("checkpoint after the kill is of epoch %d, want 1", ck.Epoch)
	}
	var log bytes.Buffer
	b := backend.Must()
	resumed, err := Train(b, cfg, d, CrossEntropy, filepath.Join(out, "runs"), &log)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.ResumedFrom != 1 || !strings.Contains(log.String(), "resuming from the checkpoint of epoch 1/3") {
		t.Fatalf("ResumedFrom=%d, log:\n%s", resumed.ResumedFrom, log.String())
	}
	if len(resumed.EpochSeconds) != 3 {
		t.Errorf("epoch times %v, want 3", resumed.EpochSeconds)
	}

	whole, err := Train(b, cfg, d, CrossEntropy, filepath.Join(t.TempDir(), "runs"), nil)
	if err != nil {
		t.Fatal(err)
	}
	compareVars(t, resumed, whole)
}

// compareVars checks that two trained contexts hold identical variables.
func compareVars(t *testing.T, a, b *Trained) {
	t.Helper()
	pa := filepath.Join(t.TempDir(), "a.bin")
	pb := filepath.Join(t.TempDir(), "b.bin")
	if err := loop.SaveCheckpoint(pa, a.Ctx, loop.Checkpoint{}); err != nil {
		t.Fatal(err)
	}
	if err := loop.SaveCheckpoint(pb, b.Ctx, loop.Checkpoint{}); err != nil {
		t.Fatal(err)
	}
	ca, _ := loop.ReadCheckpoint(pa)
	cb, _ := loop.ReadCheckpoint(pb)
	vb := map[string][]byte{}
	for _, v := range cb.Vars {
		vb[v.Scope+"/"+v.Name] = v.Data
	}
	if len(ca.Vars) != len(cb.Vars) || len(ca.Vars) == 0 {
		t.Fatalf("%d vs %d variables", len(ca.Vars), len(cb.Vars))
	}
	for _, v := range ca.Vars {
		if !bytes.Equal(v.Data, vb[v.Scope+"/"+v.Name]) {
			t.Errorf("variable %s/%s differs between the resumed and the uninterrupted run", v.Scope, v.Name)
		}
	}
}

// A corrupt checkpoint in a run's directory stops Train with an error naming it.
func TestCorruptRunCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig(t, "regimes=ce")
	d := tinyData(t, cfg)
	runs := filepath.Join(dir, "runs")
	p := filepath.Join(runs, cfg.RunKey(d, CrossEntropy), CheckpointFile)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("confcal-checkpoint-v2\n"+"garbage"), 0o644)
	if _, err := Train(backend.Must(), cfg, d, CrossEntropy, runs, nil); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("corrupt checkpoint: %v", err)
	}
}
