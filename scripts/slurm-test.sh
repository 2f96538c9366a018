#!/usr/bin/env bash
# slurm-test.sh is the end-to-end test of confcal's Slurm deployment (deploy/slurm/) on a real
# Slurm: Debian's slurm-wlm (slurmctld, slurmd) and munge, started on localhost as a one-node cluster
# with 2 CPUs and 2 stand-in GPUs (device files that Slurm schedules; the runs use the CPU), in a
# private folder with its own ports, munge socket and key.
#
#   1. builds the bundle (scripts/bundle.sh) and unpacks it in a fresh folder (the "shared" file system);
#   2. submits, with deploy/slurm/submit.sh, the quick stand-in sweep (cifar10, two regimes × two
#      learning rates = 4 trials) as an array of 4 tasks, plus the report job that depends on it;
#   3. interrupts two tasks after their trials have checkpointed an epoch and before they end: kills
#      (SIGKILL) task 1's confcal, so that the task fails and requeues itself (sweep.sbatch), and
#      requeues task 2 with `scontrol requeue`, as a preemption or node failure does (--requeue);
#      checks that both restarted tasks resumed their trials from the checkpoints, not from scratch;
#   4. waits for the report job and checks that it merged all 4 trials into report.md;
#   5. stops the daemons it started and removes its folder (also on failure; --keep keeps the folder).
#
# Needs root (or sudo): slurmd runs jobs as their users. Debian packages slurm-wlm and munge
# (scripts/setup.sh installs them). Takes about 2–3 minutes on 2 cores.
#
# Usage: scripts/slurm-test.sh [--keep] [--bundle FILE.tgz]
#   --bundle FILE.tgz   use this bundle instead of building one
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
keep=0 archive=""
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) keep=1; shift ;;
	--bundle) archive=${2:?--bundle needs a file}; shift 2 ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "slurm-test: unknown argument $1" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	# Build the bundle as this user (not as root, which would leave root-owned files in the Go
	# caches), then go on as root.
	command -v sudo >/dev/null || { echo "slurm-test: needs root or sudo (slurmd runs the jobs)" >&2; exit 1; }
	if [ -z "$archive" ]; then
		bdir=$(mktemp -d /tmp/confcal-slurm-bundle.XXXXXX)
		echo "slurm-test: building the bundle"
		bash scripts/bundle.sh -o "$bdir/confcal-bundle.tgz" --no-mnist >"$bdir/bundle.log" 2>&1 ||
			{ cat "$bdir/bundle.log" >&2; echo "slurm-test: FAIL: scripts/bundle.sh failed" >&2; exit 1; }
		rc=0
		sudo --preserve-env=PATH,CI bash "$0" --bundle "$bdir/confcal-bundle.tgz" $([ "$keep" = 1 ] && echo --keep) || rc=$?
		rm -rf "$bdir"
		exit "$rc"
	fi
	exec sudo --preserve-env=PATH,CI bash "$0" --bundle "$archive" $([ "$keep" = 1 ] && echo --keep)
fi

start=$(date +%s)
say() { echo "slurm-test [$(($(date +%s) - start))s]: $*"; }
fail() {
	echo "slurm-test: FAIL: $*" >&2
	exit 1
}
for c in slurmctld slurmd munged sbatch squeue scontrol sinfo python3; do
	command -v "$c" >/dev/null || fail "$c is not installed (scripts/setup.sh installs slurm-wlm and munge)"
done

work=$(mktemp -d /tmp/confcal-slurm-test.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
	local rc=$?
	set +e
	if [ "$rc" != 0 ] && [ -d "$work/log" ]; then
		echo "---- slurmctld.log (last 30 lines)" >&2
		tail -n 30 "$work/log/slurmctld.log" >&2
		echo "---- slurmd.log (last 30 lines)" >&2
		tail -n 30 "$work/log/slurmd.log" >&2
		for f in "$work"/shared/out/slurm/*.out; do
			[ -f "$f" ] && { echo "---- $f (last 20 lines)" >&2; tail -n 20 "$f" >&2; }
		done
	fi
	if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
		scancel --quiet --user=root 2>/dev/null
	fi
	# The daemons this test started, by their pid files (slurmd, slurmctld, munged).
	for p in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid"; do
		[ -f "$p" ] || continue
		pid=$(cat "$p")
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	done
	if [ "$keep" = 1 ]; then
		echo "slurm-test: kept $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT

# --- the bundle, unpacked in a fresh folder ----------------------------------------------------
mkdir -p "$work/shared"
if [ -z "$archive" ]; then
	say "building the bundle"
	archive="$work/bundle.tgz"
	bash scripts/bundle.sh -o "$archive" --no-mnist >"$work/bundle.log" 2>&1 || { cat "$work/bundle.log" >&2; fail "scripts/bundle.sh failed"; }
fi
tar -xzf "$archive" -C "$work/shared"
bundle="$work/shared/confcal-bundle"
[ -x "$bundle/run.sh" ] || fail "the bundle has no run.sh"

# --- munge and Slurm, private to this test ---------------------------------------------------
free_ports() { python3 -c 'import socket
ss=[socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])'; }
read -r ctld_port slurmd_port < <(free_ports)
node=$(hostname -s)
mkdir -p "$work/munge" "$work/etc" "$work/state" "$work/spool" "$work/log"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --socket="$work/munge/munge.sock" --key-file="$work/munge/munge.key" --pid-file="$work/munge/munged.pid" \
	--log-file="$work/log/munged.log" --seed-file="$work/munge/munged.seed" --force ||
	fail "munged did not start ($(tail -n 3 "$work/log/munged.log" 2>/dev/null))"

export SLURM_CONF="$work/etc/slurm.conf"
cat >"$SLURM_CONF" <<EOT
ClusterName=confcaltest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
PlugStackConfig=$work/etc/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=5
SchedulerParameters=sched_interval=5,bf_interval=5
MinJobAge=600
GresTypes=gpu
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 Gres=gpu:2 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOT
# Two stand-in GPU devices: Slurm counts a GPU only with a device file (any character device will do),
# so that sweep.sbatch's --gres=gpu:1 is scheduled as on a GPU cluster (the runs use the CPU).
mkdir -p "$work/dev"
ln -s /dev/null "$work/dev/gpu0"
ln -s /dev/zero "$work/dev/gpu1"
echo "NodeName=$node Name=gpu File=$work/dev/gpu[0-1]" >"$work/etc/gres.conf"
: >"$work/etc/plugstack.conf"
slurmctld -c -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" -N "$node" || fail "slurmd did not start"
for _ in $(seq 60); do
	state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
	[ "$state" = idle ] && break
	sleep 0.5
done
[ "$state" = idle ] || fail "node $node is '$state', not idle, after 30 s"
say "Slurm is up: node $node idle ($(sinfo -h -o '%c CPUs, %G'))"

# --- the sweep: 4 trials as an array of 4 tasks, and the report after it --------------------------
# Two regimes (ce, conf-seen: Table 1) × two learning rates; 8 epochs each, so a trial is long
# enough to be killed between checkpoints.
set_="preset=quick;standin=true;regimes=ce,conf-seen;sweep_beta=1;sweep_batch=32;sweep_lr=0.002,0.001;epochs=8;lr_decay_epoch=6;odin=false;guided_n=0"
out="$work/shared/out"
export GOMLX_BACKEND=cpu CONFCAL_DATA="$work/shared/data" HOME="$work/home"
mkdir -p "$HOME"
# sweep.sbatch asks for 4 CPUs per task; this node has 2, so one each (an sbatch option passed through).
ids=$(deploy/slurm/submit.sh --bundle "$bundle" --shards 4 --retries 2 --set "$set_" cifar10 "$out" -- --cpus-per-task=1)
echo "$ids"
array=$(sed -n 's/^array=\([0-9]*\) report=.*/\1/p' <<<"$ids")
report=$(sed -n 's/.* report=\([0-9]*\)$/\1/p' <<<"$ids")
[ -n "$array" ] && [ -n "$report" ] || fail "submit.sh printed no job ids"

# --- interrupt two tasks once their trials have a checkpoint ----------------------------------
# wait_checkpoint TASK: waits until TASK's trial has checkpointed an epoch and sets key (the trial's
# run key) and pid (the task's confcal process).
wait_checkpoint() {
	local task=$1 log="$out/slurm/confcal-sweep-${array}_$1.out" deadline=$(($(date +%s) + 300)) d env_
	pid="" key=""
	while [ "$(date +%s)" -lt "$deadline" ]; do
		# "<key>: epoch 1/8 step ..." is printed at the end of epoch 1, just before its checkpoint.
		key=$(sed -n 's/^\([^ ]*\): epoch [0-9]*\/8 step .*/\1/p' "$log" 2>/dev/null | head -1 || true)
		if [ -n "$key" ] && [ -f "$out/runs/$key/checkpoint.bin" ]; then
			for d in /proc/[0-9]*; do
				[ "$(cat "$d/comm" 2>/dev/null)" = confcal ] || continue
				env_=$(tr '\0' '\n' <"$d/environ" 2>/dev/null || true)
				if grep -qx "SLURM_ARRAY_JOB_ID=$array" <<<"$env_" && grep -qx "SLURM_ARRAY_TASK_ID=$task" <<<"$env_"; then
					pid=${d#/proc/}
				fi
			done
			[ -n "$pid" ] && return 0
		fi
		sleep 0.2
	done
	fail "task $task never checkpointed its trial"
}
# wait_requeued TASK: waits until TASK is pending again and shows its state.
wait_requeued() {
	local st=""
	for _ in $(seq 150); do
		st=$(squeue -h -j "${array}_$1" -o %T 2>/dev/null || true)
		[ "$st" = PENDING ] && break
		sleep 0.2
	done
	[ "$st" = PENDING ] || fail "task $1 is '$st', not requeued (PENDING)"
	say "task $1 requeued: $(scontrol show job "${array}_$1" | grep -oE '(JobState|Reason|Restarts|EligibleTime)=[^ ]*' | tr '\n' ' ')"
}
declare -A keys
# Task 1 crashes: its confcal is killed (SIGKILL, as by the out-of-memory killer); sweep.sbatch sees
# the failure and requeues the task itself.
wait_checkpoint 1
keys[1]=$key
kill -9 "$pid"
[ ! -f "$out/runs/$key/result.json" ] || fail "killed too late: trial $key had finished"
say "killed task 1's confcal (pid $pid) during trial $key, after its checkpoint of an epoch"
wait_requeued 1
# Task 2 is requeued by Slurm while it runs, as a preemption or a node failure does (--requeue).
wait_checkpoint 2
keys[2]=$key
scontrol requeue "${array}_2" || fail "scontrol requeue ${array}_2 failed"
[ ! -f "$out/runs/$key/result.json" ] || fail "requeued too late: trial $key had finished"
say "requeued task 2 with scontrol during trial $key, after its checkpoint of an epoch"
wait_requeued 2

# --- wait for the report job -----------------------------------------------------------------
deadline=$(($(date +%s) + 600))
while [ "$(date +%s)" -lt "$deadline" ]; do
	left=$(squeue -h -j "$array,$report" -o %i 2>/dev/null | wc -l)
	[ "$left" = 0 ] && break
	sleep 2
done
[ "$left" = 0 ] || fail "jobs still queued after 10 minutes: $(squeue -h -j "$array,$report")"
say "array $array and report $report have ended"

# --- checks ----------------------------------------------------------------------------------
# check_resumed TASK: TASK ran again, resumed its trial from the checkpoint (without training the
# checkpointed epochs again) and trained it to its last epoch.
check_resumed() {
	local task=$1 key=${keys[$1]} log="$out/slurm/confcal-sweep-${array}_$1.out" resumed after e
	grep -q "restart 1) on" "$log" || fail "task $task was not restarted (no 'restart 1' in $log)"
	resumed=$(sed -n "s/^$key: resuming from the checkpoint of epoch \([0-9]*\)\/8$/\1/p" "$log" | head -1)
	[ -n "$resumed" ] && [ "$resumed" -ge 1 ] && [ "$resumed" -lt 8 ] ||
		fail "the restarted task $task did not resume trial $key from a checkpoint (epoch 1-7 of 8)"
	after=$(sed -n '/restart 1) on/,$p' "$log")
	for e in $(seq 1 "$resumed"); do
		if grep -q "^$key: epoch $e/8 step" <<<"$after"; then
			fail "the restarted task $task trained epoch $e of $key again"
		fi
	done
	grep -q "^$key: epoch 8/8 step" <<<"$after" || fail "the restarted task $task did not train $key to its last epoch"
	say "task $task: $key resumed from the checkpoint of epoch $resumed/8 and finished"
}
grep -q "requeueing task 1" "$out/slurm/confcal-sweep-${array}_1.out" || fail "task 1 did not requeue itself after the kill"
check_resumed 1
check_resumed 2
for t in 0 1 2 3; do
	f="$out/slurm/confcal-sweep-${array}_$t.out"
	grep -q "shard $t/4 (Slurm job array" "$f" || fail "task $t did not take shard $t/4 from the array ($f)"
	grep -q "sweep shard $t/4 done: 1 trial" "$f" || fail "task $t did not finish its trial ($f)"
done
rlog="$out/slurm/confcal-report-$report.out"
grep -q "sweep: 4 of 4 trials have results" "$rlog" || fail "the report job did not merge 4 of 4 trials ($rlog)"
[ "$(find "$out/runs" -name result.json | wc -l)" = 4 ] || fail "$(find "$out/runs" -name result.json | wc -l) results, want 4"
grep -q 'Table 1' "$out/report.md" || fail "report.md has no Table 1 (ce vs conf-seen)"
state=$(scontrol show job "$report" 2>/dev/null | grep -o 'JobState=[A-Z]*' | head -1)
[ "$state" = JobState=COMPLETED ] || fail "report job: $state"
say "PASS: 4 tasks; task 1 killed and task 2 requeued mid-trial, both resumed from their checkpoints; the report job merged 4 of 4 trials"
