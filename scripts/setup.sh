#!/usr/bin/env bash
# setup.sh installs what is needed to execute the project's GoNB notebooks headlessly
# (and so to run the notebook tests) and the Slurm end-to-end test on a Debian 12 machine that has
# only Go installed:
#
#   - Debian packages jupyter-nbconvert and jupyter-client (plus jupyter-notebook with
#     --interactive, for the browser UI), python3-numpy and python3-scipy (for tests), slurm-wlm
#     and munge (scripts/slurm-test.sh starts its own one-node Slurm; nothing is started here), gcc
#     and libc6-dev (scripts/bundle.sh builds with cgo);
#   - GoNB v0.11.1 (the Go Jupyter kernel) and goimports, into $(go env GOPATH)/bin (or GOBIN);
#   - the GoNB kernel spec ("gonb", installed with --raw_error for plain-text errors).
#
# It is idempotent: a second run only re-writes the kernel spec.
#
# Usage: scripts/setup.sh [--interactive]
set -euo pipefail

GONB_VERSION=v0.11.1
interactive=0
for arg in "$@"; do
	case "$arg" in
	--interactive) interactive=1 ;;
	-h | --help)
		sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "setup.sh: unknown argument: $arg" >&2
		exit 2
		;;
	esac
done

log() { echo "setup: $*"; }
start=$(date +%s)
changed=()

command -v go >/dev/null 2>&1 || {
	echo "setup: 'go' is not on PATH; install Go first (see go.mod for the version)" >&2
	exit 1
}
gobin=$(go env GOBIN) # Where `go install` puts binaries: GOBIN, else the first GOPATH's bin.
if [[ -z $gobin ]]; then
	gobin="$(go env GOPATH | cut -d: -f1)/bin"
fi
export PATH="$gobin:$PATH"

# --- Debian packages -------------------------------------------------------
pkgs=(jupyter-nbconvert jupyter-client python3-numpy python3-scipy slurm-wlm munge gcc libc6-dev)
if [[ $interactive == 1 ]]; then
	pkgs+=(jupyter-notebook)
fi
missing=()
for p in "${pkgs[@]}"; do
	if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]]; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} > 0)); then
	sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "setup: need root or sudo to install: ${missing[*]}" >&2
			exit 1
		}
		sudo=(sudo)
	fi
	log "installing Debian packages: ${missing[*]}"
	aptlog=$(mktemp)
	if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update &&
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1; then
		tail -n 30 "$aptlog" >&2
		echo "setup: apt-get failed (full log: $aptlog)" >&2
		exit 1
	fi
	rm -f "$aptlog"
	changed+=("apt: ${missing[*]}")
else
	log "Debian packages present: ${pkgs[*]}"
fi
[[ -x /usr/bin/jupyter ]] || {
	echo "setup: /usr/bin/jupyter is missing after installing ${pkgs[*]}" >&2
	exit 1
}

# --- GoNB ------------------------------------------------------------------
# `go install github.com/janpfeifer/gonb@v0.11.1` fails (the module proxy refuses gonb's
# version list), so install it from a scratch module that requires that version.
# `gonb --version` prints "GoNB version: v0.11.1" and build info.
gonb_version() { "$gobin/gonb" --version 2>/dev/null | sed -n 's/^GoNB version: //p' || true; }
if [[ -x "$gobin/gonb" && "$(gonb_version)" == "$GONB_VERSION" ]]; then
	log "gonb ${GONB_VERSION} present in $gobin"
else
	log "installing gonb ${GONB_VERSION} into $gobin"
	scratch=$(mktemp -d)
	trap 'rm -rf "$scratch"' EXIT
	if ! out=$(
		cd "$scratch" &&
			go mod init gonbinstall 2>&1 &&
			go get "github.com/janpfeifer/gonb@${GONB_VERSION}" 2>&1 &&
			go install github.com/janpfeifer/gonb 2>&1
	); then
		echo "$out" >&2
		echo "setup: installing gonb ${GONB_VERSION} failed" >&2
		exit 1
	fi
	if [[ "$(gonb_version)" != "$GONB_VERSION" ]]; then
		echo "setup: $gobin/gonb reports version '$(gonb_version)', want ${GONB_VERSION}" >&2
		exit 1
	fi
	changed+=("gonb ${GONB_VERSION}")
fi

# --- goimports (GoNB uses it to add missing imports) ------------------------
if [[ -x "$gobin/goimports" ]]; then
	log "goimports present in $gobin"
else
	log "installing goimports into $gobin"
	if ! out=$(go install golang.org/x/tools/cmd/goimports@latest 2>&1); then
		echo "$out" >&2
		echo "setup: installing goimports failed" >&2
		exit 1
	fi
	changed+=("goimports")
fi

# --- Jupyter kernel spec ----------------------------------------------------
# Cheap, so always re-written: it records the absolute path of the gonb binary.
# --force_deps: without gopls (optional: only for autocompletion in the browser UI),
# `gonb --install` otherwise exits with a fatal error after writing the spec.
if ! out=$("$gobin/gonb" --install --raw_error --force_deps 2>&1); then
	echo "$out" >&2
	echo "setup: 'gonb --install --raw_error --force_deps' failed" >&2
	exit 1
fi
kernels=$(/usr/bin/jupyter kernelspec list 2>/dev/null || true)
grep -qE '^[[:space:]]*gonb[[:space:]]' <<<"$kernels" || {
	echo "setup: the gonb kernel spec is not visible to 'jupyter kernelspec list':" >&2
	echo "$kernels" >&2
	exit 1
}
log "gonb kernel spec installed ($(awk '$1 == "gonb" {print $2}' <<<"$kernels"))"

summary="nothing new to install"
if ((${#changed[@]} > 0)); then
	summary="installed: ${changed[0]}"
	for c in "${changed[@]:1}"; do summary+=", $c"; done
fi
echo "setup: OK in $(($(date +%s) - start))s ($summary); run notebooks with /usr/bin/jupyter and kernel 'gonb'"
