package experiment

import (
	"fmt"
	"strconv"
	"strings"
)

// Environment variables from which a sweep shard is taken when -shard is not given (see ShardFromEnv).
const (
	// EnvSlurmTaskID and the others are set by Slurm in each task of a job array (sbatch --array).
	EnvSlurmTaskID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmTaskCount = "SLURM_ARRAY_TASK_COUNT"
	EnvSlurmTaskMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmTaskMax   = "SLURM_ARRAY_TASK_MAX"
	EnvSlurmTaskStep  = "SLURM_ARRAY_TASK_STEP"
	// EnvJobIndex is set by Kubernetes in each pod of an Indexed Job (completionMode: Indexed).
	EnvJobIndex = "JOB_COMPLETION_INDEX"
	// EnvJobCompletions is the number of completions of that Job. Kubernetes does not set it: the
	// Job's pod template must, to the value of spec.completions (deploy/k8s/sweep-job.yaml does).
	EnvJobCompletions = "JOB_COMPLETIONS"
)

// ShardFromEnv returns the sweep shard that a scheduler assigns to this process, and where it came
// from:
//
//   - a Slurm job array task: index (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP
//     of (MAX − MIN) / STEP + 1 tasks when MIN and MAX are set (STEP defaults to 1), else
//     SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT; an array that is not an evenly stepped range
//     (e.g. --array=1,4,9) is an error, as its tasks could not cover every trial;
//   - a Kubernetes Indexed Job pod: JOB_COMPLETION_INDEX of JOB_COMPLETIONS;
//   - otherwise the whole sweep, 0/1, with ok false.
//
// Both schedulers' variables at once, or an index without its count, are errors naming the variables.
func ShardFromEnv(getenv func(string) string) (sh Shard, from string, ok bool, err error) {
	slurm := strings.TrimSpace(getenv(EnvSlurmTaskID)) != ""
	k8s := strings.TrimSpace(getenv(EnvJobIndex)) != ""
	switch {
	case slurm && k8s:
		return Shard{}, "", false, fmt.Errorf("both %s and %s are set: cannot tell which scheduler assigns the shard; pass -shard i/n", EnvSlurmTaskID, EnvJobIndex)
	case slurm:
		sh, err = slurmShard(getenv)
		if err != nil {
			return Shard{}, "", false, err
		}
		return sh, "Slurm job array (" + EnvSlurmTaskID + "=" + strings.TrimSpace(getenv(EnvSlurmTaskID)) + ")", true, nil
	case k8s:
		i, err := envInt(getenv, EnvJobIndex, 0)
		if err != nil {
			return Shard{}, "", false, err
		}
		if strings.TrimSpace(getenv(EnvJobCompletions)) == "" {
			return Shard{}, "", false, fmt.Errorf("%s=%d is set but %s is not: Kubernetes does not pass the number of completions; set %s in the Job's pod template to spec.completions (see deploy/k8s/sweep-job.yaml), or pass -shard i/n", EnvJobIndex, i, EnvJobCompletions, EnvJobCompletions)
		}
		n, err := envInt(getenv, EnvJobCompletions, 1)
		if err != nil {
			return Shard{}, "", false, err
		}
		if i >= n {
			return Shard{}, "", false, fmt.Errorf("%s=%d is not below %s=%d (the completion index runs from 0 to completions−1; is %s the Job's spec.completions?)", EnvJobIndex, i, EnvJobCompletions, n, EnvJobCompletions)
		}
		return Shard{I: i, N: n}, fmt.Sprintf("Kubernetes Indexed Job (%s=%d, %s=%d)", EnvJobIndex, i, EnvJobCompletions, n), true, nil
	}
	return Shard{I: 0, N: 1}, "", false, nil
}

// slurmShard is ShardFromEnv for a Slurm job array task.
func slurmShard(getenv func(string) string) (Shard, error) {
	id, err := envInt(getenv, EnvSlurmTaskID, 0)
	if err != nil {
		return Shard{}, err
	}
	has := func(k string) bool { return strings.TrimSpace(getenv(k)) != "" }
	if has(EnvSlurmTaskMin) && has(EnvSlurmTaskMax) {
		lo, err := envInt(getenv, EnvSlurmTaskMin, 0)
		if err != nil {
			return Shard{}, err
		}
		hi, err := envInt(getenv, EnvSlurmTaskMax, lo)
		if err != nil {
			return Shard{}, err
		}
		step := 1
		if has(EnvSlurmTaskStep) {
			if step, err = envInt(getenv, EnvSlurmTaskStep, 1); err != nil {
				return Shard{}, err
			}
		}
		if id < lo || id > hi || (id-lo)%step != 0 {
			return Shard{}, fmt.Errorf("%s=%d is not in the array %d-%d:%d (%s, %s, %s)", EnvSlurmTaskID, id, lo, hi, step, EnvSlurmTaskMin, EnvSlurmTaskMax, EnvSlurmTaskStep)
		}
		n := (hi-lo)/step + 1
		if has(EnvSlurmTaskCount) {
			count, err := envInt(getenv, EnvSlurmTaskCount, 1)
			if err != nil {
				return Shard{}, err
			}
			if count != n {
				return Shard{}, fmt.Errorf("the job array has %d tasks (%s=%d) but spans %d-%d:%d (%d indices): submit it with a range, e.g. --array=0-%d, so that its tasks cover every trial, or pass -shard i/n", count, EnvSlurmTaskCount, count, lo, hi, step, n, count-1)
			}
		}
		return Shard{I: (id - lo) / step, N: n}, nil
	}
	if !has(EnvSlurmTaskCount) {
		return Shard{}, fmt.Errorf("%s=%d is set without %s or %s/%s: cannot tell how many shards there are; pass -shard i/n", EnvSlurmTaskID, id, EnvSlurmTaskCount, EnvSlurmTaskMin, EnvSlurmTaskMax)
	}
	n, err := envInt(getenv, EnvSlurmTaskCount, 1)
	if err != nil {
		return Shard{}, err
	}
	if id >= n {
		return Shard{}, fmt.Errorf("%s=%d is not below %s=%d: without %s/%s the array must be 0-%d", EnvSlurmTaskID, id, EnvSlurmTaskCount, n, EnvSlurmTaskMin, EnvSlurmTaskMax, n-1)
	}
	return Shard{I: id, N: n}, nil
}

// envInt reads an integer >= min from the environment variable k.
func envInt(getenv func(string) string, k string, min int) (int, error) {
	s := strings.TrimSpace(getenv(k))
	v, err := strconv.Atoi(s)
	if err != nil || v < min {
		return 0, fmt.Errorf("%s=%q: want an integer >= %d", k, s, min)
	}
	return v, nil
}

// ResolveShard picks the shard of a sweep: the -shard flag's value when it was given (flagSet), else
// the scheduler's (ShardFromEnv), else the whole sweep (0/1). It says where the shard came from.
func ResolveShard(flag string, flagSet bool, getenv func(string) string) (Shard, string, error) {
	if flagSet {
		sh, err := ParseShard(flag)
		return sh, "-shard", err
	}
	sh, from, ok, err := ShardFromEnv(getenv)
	if err != nil {
		return Shard{}, "", err
	}
	if !ok {
		from = "the whole sweep (no -shard, no scheduler array)"
	}
	return sh, from, nil
}

// MissingTrials returns the trials of cfg's grid that have no result among rs, a folder's results
// (LoadResults) of the in-distribution data set named data: what a sweep's shards have left undone.
func MissingTrials(cfg Config, rs []*RunResult, data string) []Trial {
	have := map[string]bool{}
	for _, r := range rs {
		if r.Data == data && r.StandIn == cfg.StandIn {
			have[r.Key] = true
		}
	}
	seen := ""
	for _, r := range rs {
		if r.Data == data && r.SeenName != "" {
			seen = r.SeenName
			break
		}
	}
	d := &Data{Name: data, StandIn: cfg.StandIn, SeenName: seen}
	var missing []Trial
	for _, tr := range Grid(cfg) {
		c := cfg
		c.Beta, c.Batch, c.LR = tr.Beta, tr.Batch, tr.LR
		if !have[c.RunKey(d, tr.Regime)] {
			missing = append(missing, tr)
		}
	}
	return missing
}
