#!/usr/bin/env bash
# render-notebooks.sh executes the notebooks headlessly in their quick preset and writes each as one
# HTML page that reads offline, docs/notebooks/<name>.html: the outputs as the cells left them, the
# figures inline as PNG (at most 256 colours), the math typeset into SVG (no MathJax from a CDN), no
# script. One notebook at a time; the executed notebooks and their results stay in
# out/notebooks-html/<name>/.
#
#   scripts/render-notebooks.sh              # every notebooks/*.ipynb (about 15 minutes on 2 cores)
#   scripts/render-notebooks.sh toy2d        # only these
#
# Needs what scripts/setup.sh installs (Jupyter, GoNB, node + npm); it installs the npm packages of
# scripts/notebook-html (MathJax 3) itself. Paths of this machine that cells print (the repository,
# the module cache, $HOME) are written as ".", "$GOMODCACHE" and "~"; a page that still names one,
# or loads anything from outside itself, is an error.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$(date +%s)

names=("$@")
if ((${#names[@]} == 0)); then
	for f in notebooks/*.ipynb; do names+=("$(basename "$f" .ipynb)"); done
fi
for n in "${names[@]}"; do
	[[ -f notebooks/$n.ipynb ]] || {
		echo "render-notebooks.sh: no notebooks/$n.ipynb" >&2
		exit 2
	}
done

js=scripts/notebook-html
if [[ ! -f $js/node_modules/.package-lock.json || $js/package-lock.json -nt $js/node_modules/.package-lock.json ]]; then
	echo "== npm ci in $js"
	(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi

gobin=$(go env GOBIN)
[[ -n $gobin ]] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
export PATH="$gobin:$PATH"
modcache=$(go env GOMODCACHE)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain -- notebooks confcal toy2d mnist experiment report 2>/dev/null)" ]]; then
	rev+=" plus uncommitted changes"
fi
work=out/notebooks-html
mkdir -p docs/notebooks "$work"

for n in "${names[@]}"; do
	echo "== $n: executing notebooks/$n.ipynb (quick preset)"
	t0=$(date +%s)
	# CONFCAL_SET: toy2d's default is the paper's setting (6 minutes); the other notebooks' is quick.
	CONFCAL_SET="preset=quick" go run ./cmd/nbexec -out "$work" "notebooks/$n.ipynb"
	secs=$(($(date +%s) - t0))
	note="notebooks/$n.ipynb as executed by scripts/render-notebooks.sh (quick preset, headless, ${secs} s on $(nproc) cores) at commit $rev, $(date -u +%Y-%m-%d). Numbers and figures are the quick preset's; the README has the paper-setting results."
	page="docs/notebooks/$n.html"
	go run ./cmd/nbhtml -title "confcal: $n.ipynb (executed)" -note "$note" \
		-replace "$modcache=\$GOMODCACHE" -replace "$root=." -replace "$HOME=~" \
		"$work/$n/$n.executed.ipynb" "$page"
	for p in "$root" "$modcache" "$HOME/"; do
		if grep -qF "$p" "$page"; then
			echo "render-notebooks.sh: $page still names $p:" >&2
			grep -oF "$p" "$page" | head -n 3 >&2
			exit 1
		fi
	done
done
ls -l docs/notebooks
echo "render-notebooks.sh: done in $(($(date +%s) - start)) s"
