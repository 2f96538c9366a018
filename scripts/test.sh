#!/usr/bin/env bash
# test.sh runs all the project's checks and tests, the notebooks included:
#   scripts/setup.sh (Jupyter + GoNB, Slurm + munge, so that it works on a fresh Debian 12 machine with Go),
#   gofmt (must list nothing), go vet, go test -count=1 -timeout 80m ./... (with, unless -short, the
#   notebooks executed headlessly and the browser test of the toy2d notebook: a Jupyter Notebook server
#   driven by headless Chromium, its screenshots in out/browsertest/),
#   then scripts/bundle-test.sh (the GPU bundle, run on the CPU) and scripts/slurm-test.sh (the sweep as
#   a Slurm job array on a real one-node Slurm; needs root or sudo).
# Extra arguments go to `go test` after the defaults (so they can override them), and then only the
# Go tests run, e.g.
#   scripts/test.sh -run TestNotebooks -v
set -euo pipefail

start=$(date +%s)
trap 'rc=$?; s=$(($(date +%s) - start)); echo "test.sh: $([[ $rc == 0 ]] && echo PASS || echo "FAIL (exit $rc)") in $((s / 60))m$((s % 60))s"' EXIT

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

echo "== gofmt"
files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked files (what CI checks out); skip ones deleted in the work tree.
	while IFS= read -r -d '' f; do
		if [[ -f $f ]]; then files+=("$f"); fi
	done < <(git ls-files -z -- '*.go')
else
	while IFS= read -r -d '' f; do
		files+=("$f")
	done < <(find . -name '*.go' -not -path './.git/*' -print0)
fi
if ((${#files[@]} > 0)); then
	unformatted=$(gofmt -l "${files[@]}")
	if [[ -n $unformatted ]]; then
		echo "gofmt: these files need formatting (run gofmt -w):" >&2
		echo "$unformatted" >&2
		exit 1
	fi
fi

echo "== go vet ./..."
go vet ./...

echo "== go test -count=1 -timeout 80m ./... $*"
go test -count=1 -timeout 80m ./... "$@"
if [[ -d out/browsertest ]] && [[ " $* " != *" -short "* ]]; then
	echo "browser test screenshots and logs: $(pwd)/out/browsertest/"
fi

# Each reader of untrusted files has a fuzz target; run each for a few seconds (FUZZTIME) on top of
# its seed corpus. Skipped with -short.
if [[ " $* " != *" -short "* ]]; then
	fuzztime="${FUZZTIME:-5s}"
	while read -r pkg target; do
		echo "== fuzz $pkg $target ($fuzztime)"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
	done <<-'TARGETS'
		./cifar FuzzReadBatch
		./cifar FuzzReadArchive
		./mnist FuzzReadIDX
		./svhn FuzzReadMAT
		./oodsets FuzzLoadArchive
		./confcal/loop FuzzCheckpointBody
	TARGETS
fi

if (($# == 0)); then
	echo "== scripts/bundle-test.sh"
	bash scripts/bundle-test.sh
	echo "== scripts/slurm-test.sh"
	if [[ $(id -u) != 0 ]] && ! command -v sudo >/dev/null 2>&1 && [[ -z ${CI:-} ]]; then
		echo "test.sh: NOT RUN: scripts/slurm-test.sh needs root or sudo (in CI it runs, and fails without them)" >&2
	else
		bash scripts/slurm-test.sh
	fi
fi
