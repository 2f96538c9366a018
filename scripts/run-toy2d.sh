#!/usr/bin/env bash
# The main job: set up Jupyter + GoNB (idempotent) and execute the 2D toy notebook end to end on the
# default CPU backend, in the paper's own setting (about 6 minutes on 2 cores). Results and figures go to OUT (default: out/), in
# OUT/toy2d/: results.json, figure1.png, figure3ab.png and the executed notebook.
#
#   scripts/run-toy2d.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out}"
bash scripts/setup.sh
export PATH="$(go env GOPATH)/bin:$PATH"
go run ./cmd/nbexec -out "$out" notebooks/toy2d.ipynb
