#!/usr/bin/env bash
# run.sh runs confcal from an unpacked bundle (made by scripts/bundle.sh) on any linux/amd64 machine,
# without Go or network: a GPU workstation, a Slurm or Kubernetes node, any remote box.
#
#   ./run.sh [--plugin PATH] [--python PY] [--] EXPERIMENT [ARGS...]
#   ./run.sh cifar10 -set "preset=paper" -out /shared/out/cifar10-paper
#   ./run.sh gpubench -batch 128 -steps 50
#   GOMLX_BACKEND=cpu ./run.sh cifar10 -set "standin=true"      # no GPU: the CPU backend
#
# Backend: GOMLX_BACKEND as given, when it is set (cpu, go, xla:/abs/plugin.so, ...); otherwise the
# XLA backend with a CUDA PJRT plugin, found by gpu-env.sh (next to this script): --plugin PATH (or
# CONFCAL_PJRT_PLUGIN), else JAX's plugin (site-packages/jax_plugins/...) in the Python environment
# of --python PY (or CONFCAL_PY), else of the active virtual/conda environment, else of python3 on
# PATH. gpu-env.sh also sets GOMLX_NO_AUTO_INSTALL=1, GOPJRT_CUDA_CHECKS=0, LD_LIBRARY_PATH (the
# environment's site-packages/nvidia/*/lib folders) and the XLA autotune cache.
#
# Data: CONFCAL_DATA defaults to the bundle's data/ folder (the data sets packed with --data, and where
# generated stand-ins are written; it must then be writable); MNIST comes from the bundle's copy of
# the GoMNIST module (GOMODCACHE). Everything else (e.g. -out) is confcal's: ./run.sh EXPERIMENT -h.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "run.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--plugin) [ $# -ge 2 ] || die "--plugin needs a path"; export CONFCAL_PJRT_PLUGIN=$2; shift 2 ;;
	--plugin=*) export CONFCAL_PJRT_PLUGIN=${1#*=}; shift ;;
	--python) [ $# -ge 2 ] || die "--python needs a path"; export CONFCAL_PY=$2; shift 2 ;;
	--python=*) export CONFCAL_PY=${1#*=}; shift ;;
	-h | --help) usage 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (run.sh options come before the experiment; see run.sh --help)" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage 2
[ -x "$here/bin/confcal" ] || die "$here/bin/confcal is missing: is this an unpacked bundle of scripts/bundle.sh?"

if [ -n "${CONFCAL_PJRT_PLUGIN:-}" ]; then
	[ -f "$CONFCAL_PJRT_PLUGIN" ] || die "--plugin: $CONFCAL_PJRT_PLUGIN is not a file"
	CONFCAL_PJRT_PLUGIN=$(readlink -f "$CONFCAL_PJRT_PLUGIN")
	unset GOMLX_BACKEND # an explicit plugin wins over an inherited backend
fi
if [ -n "${GOMLX_BACKEND:-}" ]; then
	echo "run.sh: backend GOMLX_BACKEND=$GOMLX_BACKEND (as given)" >&2
	export GOMLX_NO_AUTO_INSTALL=${GOMLX_NO_AUTO_INSTALL:-1}
else
	# shellcheck source=gpu-env.sh
	source "$here/gpu-env.sh" || die "no CUDA PJRT plugin: give one with --plugin PATH or --python PY, or set GOMLX_BACKEND (e.g. cpu) to run without a GPU"
fi

if [ -z "${CONFCAL_DATA:-}" ] && [ -d "$here/data" ]; then
	export CONFCAL_DATA="$here/data"
fi
if [ -d "$here/gomodcache" ]; then
	export GOMODCACHE="$here/gomodcache"
fi
exec "$here/bin/confcal" "$@"
