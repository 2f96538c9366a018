package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/confcal/confcal/experiment"
)

// TestDeployFilesAgree checks the deployment files against the code that reads their settings: the
// Kubernetes Job passes the completion count under the name ShardFromEnv reads, equal to its
// spec.completions, and runs the sweep; the Slurm files are an array with requeue and one GPU per task.
// (scripts/slurm-test.sh runs the Slurm files on a real Slurm.)
func TestDeployFilesAgree(t *testing.T) {
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	job := read("deploy/k8s/sweep-job.yaml")
	for _, want := range []string{"completionMode: Indexed", "- -sweep", "nvidia.com/gpu: 1", "mountPath: /confcal", "/confcal/confcal-bundle/run.sh"} {
		if !strings.Contains(job, want) {
			t.Errorf("sweep-job.yaml lacks %q", want)
		}
	}
	completions := regexp.MustCompile(`(?m)^\s*completions:\s*(\d+)`).FindStringSubmatch(job)
	count := regexp.MustCompile(`(?m)name:\s*` + experiment.EnvJobCompletions + `\b.*\n\s*value:\s*"(\d+)"`).FindStringSubmatch(job)
	if completions == nil || count == nil {
		t.Fatalf("sweep-job.yaml: completions %v, %s %v", completions, experiment.EnvJobCompletions, count)
	}
	if completions[1] != count[1] {
		t.Errorf("sweep-job.yaml: completions %s but %s %s", completions[1], experiment.EnvJobCompletions, count[1])
	}
	if !strings.Contains(read("deploy/k8s/report-job.yaml"), "-sweep, -report") {
		t.Errorf("report-job.yaml does not run -sweep -report")
	}

	sweep := read("deploy/slurm/sweep.sbatch")
	for _, want := range []string{"#SBATCH --array=", "#SBATCH --requeue", "#SBATCH --gres=gpu:1", "#SBATCH --open-mode=append", "-sweep", "scontrol requeue"} {
		if !strings.Contains(sweep, want) {
			t.Errorf("sweep.sbatch lacks %q", want)
		}
	}
	if strings.Contains(sweep, "-shard") {
		t.Errorf("sweep.sbatch passes -shard: the shard must come from the array")
	}
	if s := read("deploy/slurm/submit.sh"); !strings.Contains(s, "--dependency=\"afterany:$array\"") || !strings.Contains(s, "--parsable") {
		t.Errorf("submit.sh does not queue the report after the array")
	}
}
