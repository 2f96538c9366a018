#!/usr/bin/env bash
# setup.sh installs what the project's notebooks and tests need on a machine that has Go:
#
#   - Jupyter with nbconvert, jupyter_client and the Notebook server: a `jupyter` on PATH that has all
#     three (pip, conda, Homebrew) is used as it is; otherwise, on Debian or Ubuntu, Debian's packages
#     jupyter-nbconvert, jupyter-client and jupyter-notebook (Notebook 6; JupyterLab is not in Debian 12);
#   - on Debian or Ubuntu, what the tests need besides: python3-numpy and python3-scipy, slurm-wlm and
#     munge (scripts/slurm-test.sh starts its own one-node Slurm; nothing is started here), gcc and
#     libc6-dev (scripts/bundle.sh builds with cgo), chromium, and nodejs + npm unless a node is there
#     (the notebooks' browser test). Elsewhere it lists which of these are missing: the tests that need
#     them skip (and fail under CI);
#   - GoNB v0.11.1 (the Go Jupyter kernel), built with the Go release that the notebooks' metadata names
#     (language_info.version: the kernel reports the release that built it, and Jupyter marks a notebook
#     modified when the two differ; GONB_GO=go1.x.y overrides it), goimports, and gopls v0.23.0
#     (autocompletion and documentation in the browser; best effort), into $(go env GOPATH)/bin or GOBIN;
#   - the GoNB kernel spec ("gonb", installed with --raw_error for plain-text errors);
#   - the browser test's npm packages (notebooks/browsertest: `npm ci` from its package-lock.json).
#
# It is idempotent: a second run only re-writes the kernel spec.
#
# Usage: scripts/setup.sh [--interactive]
# (--interactive is accepted for old instructions and changes nothing: the Notebook server is always installed.)
set -euo pipefail

GONB_VERSION=v0.11.1
GOPLS_VERSION=v0.23.0 # gopls@latest needs a newer Go than the project's.
for arg in "$@"; do
	case "$arg" in
	--interactive) ;;
	-h | --help)
		sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "setup.sh: unknown argument: $arg" >&2
		exit 2
		;;
	esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { echo "setup: $*"; }
warn() { echo "setup: WARNING: $*" >&2; }
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

# --- Jupyter ------------------------------------------------------------------
# jupyter_ok JUPYTER: it runs nbconvert (headless execution), kernelspec (jupyter_client) and the
# Notebook server. A pyenv shim or a python3 without Jupyter fails here and is passed over.
jupyter_ok() {
	[[ -n $1 && -x $1 ]] &&
		"$1" nbconvert --version >/dev/null 2>&1 &&
		"$1" kernelspec list >/dev/null 2>&1 &&
		"$1" notebook --version >/dev/null 2>&1
}
find_jupyter() {
	local j
	for j in "$(command -v jupyter || true)" /usr/bin/jupyter; do
		if jupyter_ok "$j"; then
			echo "$j"
			return
		fi
	done
}
debian=0
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
	debian=1
fi
jupyter=$(find_jupyter)

# --- Debian packages ----------------------------------------------------------
if [[ $debian == 1 ]]; then
	pkgs=(python3-numpy python3-scipy slurm-wlm munge gcc libc6-dev chromium)
	if [[ -z $jupyter ]]; then
		pkgs+=(jupyter-nbconvert jupyter-client jupyter-notebook)
	fi
	# A node from elsewhere (NodeSource, nvm) stays; Debian's nodejs would conflict with it.
	command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
	command -v npm >/dev/null 2>&1 || pkgs+=(npm)
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
	[[ -n $jupyter ]] || jupyter=$(find_jupyter)
else
	# Not Debian: say what the tests will miss; install nothing system-wide.
	absent=()
	python3 -c 'import numpy, scipy.io' >/dev/null 2>&1 || absent+=("python3 with numpy and scipy")
	command -v slurmctld >/dev/null 2>&1 || absent+=("Slurm + munge (scripts/slurm-test.sh)")
	command -v cc >/dev/null 2>&1 || absent+=("a C compiler (scripts/bundle.sh)")
	chrome=""
	for c in chromium chromium-browser google-chrome google-chrome-stable \
		"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" \
		"/Applications/Chromium.app/Contents/MacOS/Chromium"; do
		if command -v "$c" >/dev/null 2>&1 || [[ -x $c ]]; then
			chrome=$c
			break
		fi
	done
	[[ -n $chrome ]] || absent+=("Chromium or Chrome (browser test; or set CONFCAL_CHROME)")
	command -v npm >/dev/null 2>&1 || absent+=("node + npm (browser test)")
	if ((${#absent[@]} > 0)); then
		warn "not Debian: install these yourself for the tests that need them (they skip without): ${absent[*]}"
	fi
fi
if [[ -z $jupyter ]]; then
	cat >&2 <<-'EOF'
		setup: no Jupyter with nbconvert and the Notebook server found. Install one and run setup again, e.g.
		  python3 -m pip install --user notebook nbconvert     # then make sure `jupyter` is on PATH
		  conda install -c conda-forge notebook nbconvert
		  brew install jupyterlab                              # macOS (Homebrew); provides `jupyter notebook`
	EOF
	exit 1
fi
log "Jupyter: $jupyter (Notebook $("$jupyter" notebook --version 2>/dev/null), nbconvert $("$jupyter" nbconvert --version 2>/dev/null))"

# --- GoNB ---------------------------------------------------------------------
# `go install github.com/janpfeifer/gonb@v0.11.1` fails (the module proxy refuses gonb's version list),
# so install it from a scratch module that requires that version. `gonb --version` prints
# "GoNB version: v0.11.1"; `go version FILE` the Go release that built FILE.
#
# The kernel reports the Go release that built it as language_info.version, and Jupyter marks a notebook
# modified when that differs from what the file stores: build gonb with the release the tracked
# notebooks store (GOTOOLCHAIN fetches it through the module proxy when the local go is another one).
gonb_go=${GONB_GO:-$(sed -n 's/^ *"version": "\(go1[0-9.]*\)",\{0,1\}$/\1/p' "$root/notebooks/toy2d.ipynb" | head -n 1)}
gonb_version() { "$gobin/gonb" --version 2>/dev/null | sed -n 's/^GoNB version: //p' || true; }
built_with() { go version "$1" 2>/dev/null | sed 's/.*: //' || true; }
# install_gonb TOOLCHAIN: GOTOOLCHAIN for every go command (the scratch go.mod gets its version).
install_gonb() {
	local scratch out
	scratch=$(mktemp -d)
	if ! out=$(
		cd "$scratch" &&
			export GOTOOLCHAIN="$1" GOFLAGS=-mod=mod &&
			go mod init gonbinstall 2>&1 &&
			go get "github.com/janpfeifer/gonb@${GONB_VERSION}" 2>&1 &&
			go install github.com/janpfeifer/gonb 2>&1
	); then
		echo "$out" >&2
		rm -rf "$scratch"
		return 1
	fi
	rm -rf "$scratch"
}
if [[ -x "$gobin/gonb" && "$(gonb_version)" == "$GONB_VERSION" && (-z $gonb_go || "$(built_with "$gobin/gonb")" == "$gonb_go") ]]; then
	log "gonb ${GONB_VERSION} (built with $(built_with "$gobin/gonb")) present in $gobin"
else
	if [[ -n $gonb_go ]] && log "installing gonb ${GONB_VERSION} into $gobin, built with $gonb_go" && install_gonb "$gonb_go"; then
		:
	else
		warn "could not build gonb with '${gonb_go}' (offline, or no such release?); building it with $(go env GOVERSION):" \
			"Jupyter will mark the notebooks modified when it opens them (harmless), and TestNotebookMetadata fails"
		install_gonb local || {
			echo "setup: installing gonb ${GONB_VERSION} failed" >&2
			exit 1
		}
	fi
	if [[ "$(gonb_version)" != "$GONB_VERSION" ]]; then
		echo "setup: $gobin/gonb reports version '$(gonb_version)', want ${GONB_VERSION}" >&2
		exit 1
	fi
	changed+=("gonb ${GONB_VERSION} ($(built_with "$gobin/gonb"))")
fi

# --- goimports (GoNB uses it to add missing imports) ----------------------------
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

# --- gopls (autocompletion and hover documentation in the browser; optional) ------
# GoNB starts it with each kernel when it is on PATH (an idle server until the browser asks).
if [[ -x "$gobin/gopls" ]]; then
	log "gopls present in $gobin ($("$gobin/gopls" version 2>/dev/null | head -n 1 || true))"
else
	log "installing gopls ${GOPLS_VERSION} into $gobin (optional: autocompletion in the browser)"
	if out=$(go install "golang.org/x/tools/gopls@${GOPLS_VERSION}" 2>&1); then
		changed+=("gopls ${GOPLS_VERSION}")
	else
		echo "$out" | tail -n 5 >&2
		warn "installing gopls ${GOPLS_VERSION} failed: notebooks run, without autocompletion"
	fi
fi

# --- Jupyter kernel spec ----------------------------------------------------------
# Cheap, so always re-written: it records the absolute path of the gonb binary.
# --force_deps: without gopls, `gonb --install` otherwise exits with a fatal error after writing the spec.
if ! out=$("$gobin/gonb" --install --raw_error --force_deps 2>&1); then
	echo "$out" >&2
	echo "setup: 'gonb --install --raw_error --force_deps' failed" >&2
	exit 1
fi
kernels=$("$jupyter" kernelspec list 2>/dev/null || true)
grep -qE '^[[:space:]]*gonb[[:space:]]' <<<"$kernels" || {
	echo "setup: the gonb kernel spec is not visible to '$jupyter kernelspec list':" >&2
	echo "$kernels" >&2
	exit 1
}
log "gonb kernel spec installed ($(awk '$1 == "gonb" {print $2}' <<<"$kernels"))"

# --- npm packages of the browser test ------------------------------------------------
bt="$root/notebooks/browsertest"
if ! command -v npm >/dev/null 2>&1; then
	warn "no npm: the browser test's packages are not installed"
elif [[ -f "$bt/node_modules/.package-lock.json" && ! "$bt/package-lock.json" -nt "$bt/node_modules/.package-lock.json" ]]; then
	log "browser test npm packages present ($bt/node_modules)"
else
	log "installing the browser test's npm packages (npm ci in $bt)"
	if ! out=$(cd "$bt" && npm ci --no-audit --no-fund --loglevel=error 2>&1); then
		echo "$out" | tail -n 20 >&2
		echo "setup: npm ci in $bt failed" >&2
		exit 1
	fi
	changed+=("npm: $bt")
fi

summary="nothing new to install"
if ((${#changed[@]} > 0)); then
	summary="installed: ${changed[0]}"
	for c in "${changed[@]:1}"; do summary+=", $c"; done
fi
echo "setup: OK in $(($(date +%s) - start))s ($summary); open the notebooks with scripts/notebook.sh"
