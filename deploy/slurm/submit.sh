#!/usr/bin/env bash
# submit.sh queues a confcal sweep on Slurm: the array job sweep.sbatch (one task per shard, one GPU
# each) and report.sbatch, which runs after every task of the array has ended (afterany) and merges
# all the trials into one report. Both files are next to this script; see docs/cluster.md.
#
#   deploy/slurm/submit.sh [OPTIONS] EXPERIMENT OUT [-- SBATCH_OPTIONS...]
#
#   EXPERIMENT        cifar10 or svhn
#   OUT               the output folder, on a file system that every node sees
#   --bundle DIR      the unpacked confcal bundle (scripts/bundle.sh), on a shared file system
#                     (default: the bundle this script is in)
#   --set S           confcal's -set string (default "preset=paper")
#   --shards N        array tasks, i.e. shards of the sweep (default 8; a task runs trials k with
#                     k mod N = its index)
#   --retries N       times a failed task requeues itself (default 2)
#   SBATCH_OPTIONS    given to both sbatch commands (e.g. --partition=gpu --time=2-00:00:00
#                     --account=...); they override the #SBATCH lines of the files
#
# It prints the two job ids. Follow with: squeue -j ARRAY,REPORT; the logs are in OUT/slurm/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "submit.sh: $*" >&2; exit 2; }
bundle="" set_="preset=paper" shards=8 retries=2
default_bundle=$(cd "$here/../.." && pwd)
while [ $# -gt 0 ]; do
	case "$1" in
	--bundle) bundle=${2:?--bundle needs a folder}; shift 2 ;;
	--set) set_=${2?--set needs a value}; shift 2 ;;
	--shards) shards=${2:?--shards needs a number}; shift 2 ;;
	--retries) retries=${2:?--retries needs a number}; shift 2 ;;
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) die "EXPERIMENT and OUT come before --" ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || die "usage: submit.sh [OPTIONS] EXPERIMENT OUT [-- SBATCH_OPTIONS...] (see --help)"
exp=$1 out=$2
shift 2
if [ $# -gt 0 ]; then
	[ "$1" = -- ] || die "unexpected argument $1: sbatch options come after --"
	shift
fi
case "$exp" in cifar10 | svhn) ;; *) die "EXPERIMENT must be cifar10 or svhn, got $exp" ;; esac
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "--shards must be a positive integer, got $shards"
[[ "$retries" =~ ^[0-9]+$ ]] || die "--retries must be an integer >= 0, got $retries"
bundle=${bundle:-$default_bundle}
bundle=$(cd "$bundle" 2>/dev/null && pwd) || die "--bundle: no such folder"
[ -x "$bundle/run.sh" ] && [ -x "$bundle/bin/confcal" ] || die "$bundle is not an unpacked confcal bundle (no run.sh and bin/confcal; make one with scripts/bundle.sh)"
command -v sbatch >/dev/null || die "sbatch is not on PATH: run this on a Slurm login node"
mkdir -p "$out/slurm"
out=$(cd "$out" && pwd)

# Values travel in the environment (--export), so -set strings with ';' and spaces stay intact.
export CONFCAL_BUNDLE=$bundle CONFCAL_OUT=$out CONFCAL_EXPERIMENT=$exp CONFCAL_SET=$set_ CONFCAL_RETRIES=$retries
array=$(sbatch --parsable --array="0-$((shards - 1))" --output="$out/slurm/%x-%A_%a.out" \
	--export=ALL "$@" "$here/sweep.sbatch")
array=${array%%;*} # --parsable prints "jobid[;cluster]"
report=$(sbatch --parsable --dependency="afterany:$array" --output="$out/slurm/%x-%j.out" \
	--export=ALL "$@" "$here/report.sbatch")
report=${report%%;*}
echo "submit.sh: sweep array job $array (${shards} tasks: $exp, -set \"$set_\"), report job $report after it; output in $out"
echo "array=$array report=$report"
