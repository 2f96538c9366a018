#!/usr/bin/env bash
# The main job: set up Jupyter + GoNB (idempotent) and execute the 2D toy notebook end to end on the
# default CPU backend, in the paper's own setting (about 6 minutes on 2 cores). Results and figures go to OUT (default: out/), in
# OUT/toy2d/: results.json, figure1.png, figure3ab.png and the executed notebook. It ends by printing the
# summary tables, the paper's claims checked on this run, and the paths of the figures.
#
#   scripts/run-toy2d.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out}"
bash scripts/setup.sh
export PATH="$(go env GOPATH)/bin:$PATH"
go run ./cmd/nbexec -out "$out" notebooks/toy2d.ipynb
# End with what the run showed: both figures' tables, the paper's claims checked on them, the figures' paths.
echo
echo "== What the run showed (from $out/toy2d/results.json) =="
go run ./cmd/confcal toy2d -report -out "$out/toy2d"
echo "executed notebook: $out/toy2d/toy2d.executed.ipynb"
