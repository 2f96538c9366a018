#!/usr/bin/env bash
# bundle-test.sh checks the bundle of scripts/bundle.sh end to end on a CPU: it builds the bundle,
# unpacks it in a fresh folder, and there
#   1. runs the quick preset of cifar10 on generated stand-in data with GOMLX_BACKEND=cpu, with a PATH
#      without Go and a fresh HOME, and checks its report;
#   2. checks run.sh's plugin search against a mock Python environment (site-packages with
#      jax_plugins/xla_cuda13/xla_cuda_plugin.so and nvidia/*/lib, as JAX's CUDA wheels lay them out):
#      GOMLX_BACKEND, GOPJRT_CUDA_CHECKS, GOMLX_NO_AUTO_INSTALL and LD_LIBRARY_PATH as confcal sees
#      them, with --python and with --plugin; and that without a plugin it stops with a message.
# It removes its folder afterwards (--keep keeps it). About a minute on 2 cores.
#
# Usage: scripts/bundle-test.sh [--keep]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
keep=0
[ "${1:-}" = --keep ] && keep=1
start=$(date +%s)
say() { echo "bundle-test [$(($(date +%s) - start))s]: $*"; }
fail() {
	echo "bundle-test: FAIL: $*" >&2
	exit 1
}
work=$(mktemp -d /tmp/confcal-bundle-test.XXXXXX)
trap '[ "$keep" = 1 ] && echo "bundle-test: kept $work" >&2 || rm -rf "$work"' EXIT

say "building the bundle"
bash scripts/bundle.sh -o "$work/confcal-bundle.tgz" >"$work/bundle.log" 2>&1 || { cat "$work/bundle.log" >&2; fail "scripts/bundle.sh failed"; }
tail -n 2 "$work/bundle.log"
mkdir "$work/fresh"
tar -xzf "$work/confcal-bundle.tgz" -C "$work/fresh"
b="$work/fresh/confcal-bundle"
for f in run.sh gpu-env.sh bin/confcal BUNDLE.txt deploy/slurm/sweep.sbatch deploy/k8s/sweep-job.yaml bench/torch_gpu.py docs/gpu.md; do
	[ -e "$b/$f" ] || fail "the bundle has no $f"
done
sed 's/^/  /' "$b/BUNDLE.txt"

# A PATH of only the basic tools run.sh and gpu-env.sh use (no Go, no Python) and a fresh HOME:
# nothing of the build machine.
nogo="$work/path"
mkdir -p "$nogo" "$work/home"
for t in sh bash env dirname basename readlink sed grep cat tr find sort head mkdir stat timeout uname; do
	p=$(command -v "$t") || fail "$t is not installed"
	ln -s "$p" "$nogo/$t"
done
PATH=$nogo command -v go >/dev/null && fail "go is in the test's PATH"
clean=(env -i PATH="$nogo" HOME="$work/home" LANG=C.UTF-8)

# 1. The quick preset on the CPU backend.
say "running the quick preset (cifar10, stand-in data) with GOMLX_BACKEND=cpu"
(cd "$work" && "${clean[@]}" GOMLX_BACKEND=cpu "$b/run.sh" cifar10 -set "standin=true" -out "$work/out") >"$work/run.log" 2>&1 ||
	{ tail -n 30 "$work/run.log" >&2; fail "run.sh cifar10 failed"; }
grep -q 'backend GOMLX_BACKEND=cpu (as given)' "$work/run.log" || fail "run.sh did not take GOMLX_BACKEND=cpu"
grep -q "^cifar10: preset quick, backend confcal CPU" "$work/run.log" || fail "not the quick preset on the CPU backend"
[ -f "$work/out/report.md" ] || fail "no report.md"
n=$(find "$work/out/runs" -name result.json | wc -l)
[ "$n" -ge 4 ] || fail "$n results, want one per regime of the quick preset (4)"
[ -d "$b/data/standin" ] || fail "the stand-ins were not written into the bundle's data/ (CONFCAL_DATA)"
grep -E 'accuracy [0-9.]+%' "$work/run.log" | sed 's/^/  /'
say "quick preset done: $n runs, report in $work/out/report.md"

# 2. The plugin search, against a mock Python environment.
site="$work/mockenv/lib/python3.12/site-packages"
mkdir -p "$site/jax_plugins/xla_cuda13" "$site/nvidia/cublas/lib" "$site/nvidia/cudnn/lib" "$site/jax_cuda13_pjrt-0.11.2.dist-info"
: >"$site/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
mkdir -p "$work/mockenv/bin"
cat >"$work/mockenv/bin/python3" <<EOT
#!/bin/sh
# A mock python3: answers gpu-env.sh's sysconfig questions only.
echo "$site"
EOT
chmod +x "$work/mockenv/bin/python3"
# confcal itself cannot load the empty mock plugin, so a mock binary prints the environment it gets.
cp -a "$b" "$work/mockbundle"
cat >"$work/mockbundle/bin/confcal" <<'EOT'
#!/bin/sh
echo "GOMLX_BACKEND=$GOMLX_BACKEND"
echo "GOMLX_NO_AUTO_INSTALL=$GOMLX_NO_AUTO_INSTALL"
echo "GOPJRT_CUDA_CHECKS=$GOPJRT_CUDA_CHECKS"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
echo "CONFCAL_XLA_CACHE=$CONFCAL_XLA_CACHE"
echo "ARGS=$*"
EOT
chmod +x "$work/mockbundle/bin/confcal"
plugin="$site/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
for how in python plugin; do
	case $how in
	python) opt=(--python "$work/mockenv/bin/python3") ;;
	plugin) opt=(--plugin "$plugin") ;;
	esac
	got=$("${clean[@]}" CONFCAL_PY="$work/mockenv/bin/python3" "$work/mockbundle/run.sh" "${opt[@]}" gpubench -steps 2 2>"$work/env.err") ||
		{ cat "$work/env.err" >&2; fail "run.sh --$how failed"; }
	for want in "GOMLX_BACKEND=xla:$plugin" "GOMLX_NO_AUTO_INSTALL=1" "GOPJRT_CUDA_CHECKS=0" "ARGS=gpubench -steps 2" \
		"CONFCAL_XLA_CACHE=$work/home/.cache/confcal/xla-autotune/unknown-gpu/jax_cuda13_pjrt-0.11.2"; do
		grep -qxF -- "$want" <<<"$got" || fail "run.sh --$how: no '$want' in:
$got"
	done
	ld=$(sed -n 's/^LD_LIBRARY_PATH=//p' <<<"$got")
	[[ "$ld" == *"$site/nvidia/cublas/lib"* && "$ld" == *"$site/nvidia/cudnn/lib"* ]] || fail "run.sh --$how: LD_LIBRARY_PATH=$ld lacks the nvidia/*/lib folders"
done
say "plugin search: --python and --plugin give GOMLX_BACKEND=xla:<mock plugin> and the nvidia/*/lib folders"
rm "$plugin"
if "${clean[@]}" CONFCAL_PY="$work/mockenv/bin/python3" "$work/mockbundle/run.sh" cifar10 >"$work/none.out" 2>&1; then
	fail "run.sh ran without a plugin"
fi
grep -q 'no CUDA PJRT plugin' "$work/none.out" || fail "run.sh without a plugin: $(cat "$work/none.out")"
say "PASS"
