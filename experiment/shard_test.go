package experiment

import (
	"strings"
	"testing"
)

func TestShardFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Shard
		ok   bool   // a scheduler's shard was found
		err  string // part of the error; "" for none
	}{
		{"nothing set", nil, Shard{0, 1}, false, ""},
		// sbatch --array=0-7: Slurm sets ID, COUNT, MIN, MAX and STEP.
		{"slurm 0-7, task 5", map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "7", "SLURM_ARRAY_TASK_STEP": "1"}, Shard{5, 8}, true, ""},
		// --array=1-4: task 1 is shard 0 of 4, task 4 shard 3.
		{"slurm 1-4, task 1", map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4"}, Shard{0, 4}, true, ""},
		{"slurm 1-4, task 4", map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4"}, Shard{3, 4}, true, ""},
		// --array=10-40:10: 10, 20, 30, 40 → shards 0…3 of 4.
		{"slurm stepped", map[string]string{"SLURM_ARRAY_TASK_ID": "30", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "40", "SLURM_ARRAY_TASK_STEP": "10"}, Shard{2, 4}, true, ""},
		// Only the count: IDs must be 0…count−1.
		{"slurm count only", map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"}, Shard{2, 3}, true, ""},
		{"slurm count only, id too big", map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "3"}, Shard{}, false, "SLURM_ARRAY_TASK_ID=3 is not below SLURM_ARRAY_TASK_COUNT=3"},
		// --array=1,4,9: three tasks over 1-9 cannot cover the trials by index.
		{"slurm sparse list", map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "9", "SLURM_ARRAY_TASK_STEP": "1"}, Shard{}, false, "has 3 tasks"},
		{"slurm id off the step", map[string]string{"SLURM_ARRAY_TASK_ID": "15", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "40", "SLURM_ARRAY_TASK_STEP": "10"}, Shard{}, false, "is not in the array 10-40:10"},
		{"slurm id without count", map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, Shard{}, false, "without SLURM_ARRAY_TASK_COUNT"},
		{"slurm bad id", map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"}, Shard{}, false, `SLURM_ARRAY_TASK_ID="x"`},
		{"slurm bad step", map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_STEP": "0"}, Shard{}, false, "SLURM_ARRAY_TASK_STEP"},
		// Kubernetes Indexed Job, with the count the manifest sets.
		{"k8s", map[string]string{"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "6"}, Shard{0, 6}, true, ""},
		{"k8s last", map[string]string{"JOB_COMPLETION_INDEX": "5", "JOB_COMPLETIONS": "6"}, Shard{5, 6}, true, ""},
		{"k8s without count", map[string]string{"JOB_COMPLETION_INDEX": "2"}, Shard{}, false, "Kubernetes does not pass the number of completions"},
		{"k8s index too big", map[string]string{"JOB_COMPLETION_INDEX": "6", "JOB_COMPLETIONS": "6"}, Shard{}, false, "is not below JOB_COMPLETIONS=6"},
		{"k8s zero completions", map[string]string{"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "0"}, Shard{}, false, `JOB_COMPLETIONS="0"`},
		{"both schedulers", map[string]string{"JOB_COMPLETION_INDEX": "0", "JOB_COMPLETIONS": "2", "SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2"}, Shard{}, false, "both"},
		// Blank values count as unset.
		{"blank", map[string]string{"SLURM_ARRAY_TASK_ID": " ", "JOB_COMPLETION_INDEX": ""}, Shard{0, 1}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, from, ok, err := ShardFromEnv(func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %v (ok %v), want %v (ok %v)", got, ok, tc.want, tc.ok)
			}
			if ok == (from == "") {
				t.Errorf("source %q with ok %v", from, ok)
			}
		})
	}
}

func TestResolveShard(t *testing.T) {
	slurm := map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3"}
	for _, tc := range []struct {
		name    string
		flag    string
		flagSet bool
		env     map[string]string
		want    Shard
		from    string
		err     string
	}{
		{"flag wins over slurm", "1/2", true, slurm, Shard{1, 2}, "-shard", ""},
		{"flag wins over a broken env", "0/1", true, map[string]string{"SLURM_ARRAY_TASK_ID": "x"}, Shard{0, 1}, "-shard", ""},
		{"bad flag", "2/2", true, nil, Shard{}, "", "want i/n"},
		{"slurm", "0/1", false, slurm, Shard{3, 4}, "Slurm", ""},
		{"k8s", "0/1", false, map[string]string{"JOB_COMPLETION_INDEX": "1", "JOB_COMPLETIONS": "3"}, Shard{1, 3}, "Kubernetes", ""},
		{"none", "0/1", false, nil, Shard{0, 1}, "whole sweep", ""},
		{"env error", "0/1", false, map[string]string{"JOB_COMPLETION_INDEX": "1"}, Shard{}, "", "JOB_COMPLETIONS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, from, err := ResolveShard(tc.flag, tc.flagSet, func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || !strings.Contains(from, tc.from) {
				t.Errorf("got %v from %q, want %v from %q", got, from, tc.want, tc.from)
			}
		})
	}
}
