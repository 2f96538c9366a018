#!/usr/bin/env bash
# notebook.sh starts the Jupyter Notebook server on the project's notebooks (notebooks/), with what the
# GoNB kernel needs on PATH (go, gonb, goimports, gopls from $(go env GOPATH)/bin or GOBIN).
#
#   - It uses the Jupyter that scripts/setup.sh found or installed: a `jupyter` on PATH
#     that has the Notebook (pip, conda, Homebrew), else Debian's /usr/bin/jupyter.
#   - As root (a container, a fresh VM) it adds --allow-root, without which Jupyter refuses to start.
#   - Extra arguments go to `jupyter notebook`, e.g. scripts/notebook.sh --no-browser --port 8890
#
# Usage: scripts/notebook.sh [jupyter notebook arguments]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

case "${1:-}" in
-h | --help)
	sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
esac

command -v go >/dev/null 2>&1 || {
	echo "notebook.sh: 'go' is not on PATH (GoNB compiles each cell with it)" >&2
	exit 1
}
gobin=$(go env GOBIN)
if [[ -z $gobin ]]; then
	gobin="$(go env GOPATH | cut -d: -f1)/bin"
fi
export PATH="$gobin:$(go env GOROOT)/bin:$PATH"

# The first jupyter that can run the Notebook: PATH's, then Debian's (PATH's python3 may be a pyenv one
# without Jupyter while /usr/bin/jupyter uses Debian's python3).
jupyter=""
for j in "$(command -v jupyter || true)" /usr/bin/jupyter; do
	if [[ -n $j && -x $j ]] && "$j" notebook --version >/dev/null 2>&1; then
		jupyter=$j
		break
	fi
done
if [[ -z $jupyter ]]; then
	echo "notebook.sh: no Jupyter with the Notebook found; run scripts/setup.sh" >&2
	exit 1
fi
[[ -x "$gobin/gonb" ]] || {
	echo "notebook.sh: $gobin/gonb is missing; run scripts/setup.sh" >&2
	exit 1
}

args=()
if [[ $(id -u) == 0 ]]; then
	args+=(--allow-root)
fi
echo "notebook.sh: $jupyter notebook ${args[*]} $* (in notebooks/; kernel 'Go (gonb)')"
cd notebooks
exec "$jupyter" notebook "${args[@]}" "$@"
