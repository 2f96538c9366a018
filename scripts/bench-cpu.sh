#!/usr/bin/env bash
# CPU benchmark: one training step of the simple CNN (batch 32), the DCGAN (D + G, batch 32) and
# VGG-13 (batch 8) with confcal on the default pure-Go backend, then the same models and steps in
# PyTorch on the same cores (Debian's python3-torch, installed here if missing: a benchmark peer,
# not a dependency of the project), and the ratio of step times.
#
#   scripts/bench-cpu.sh [-models simplecnn,dcgan,vgg13] [-steps 5]
set -euo pipefail
cd "$(dirname "$0")/.."
models=simplecnn,dcgan,vgg13
steps=5
while [ $# -gt 0 ]; do
  case "$1" in
    -models) models="$2"; shift 2 ;;
    -steps) steps="$2"; shift 2 ;;
    *) echo "usage: $0 [-models LIST] [-steps N]" >&2; exit 2 ;;
  esac
done
threads=$(nproc)
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
  echo "bench: installing Debian's python3-torch and OpenBLAS (PyTorch peer for the comparison)"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends python3-torch libopenblas0-pthread >/dev/null
fi
go build -o /tmp/confcal-bench ./cmd/confcal
echo "== confcal ($threads cores)"
/tmp/confcal-bench bench -models "$models" -steps "$steps" | tee /tmp/confcal-bench.go.txt
echo "== PyTorch CPU ($threads threads)"
/usr/bin/python3 bench/torch_cpu.py --threads "$threads" --steps "$steps" --models "$models" | tee /tmp/confcal-bench.torch.txt
echo "== step time ratio confcal / PyTorch (lower is better; target <= 3)"
awk '/^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       if (FILENAME ~ /go.txt/) g[v["model"]] = v["median_step_ms"]; else t[v["model"]] = v["median_step_ms"] }
     END { printf "%-10s %12s %12s %8s\n", "model", "confcal_ms", "torch_ms", "ratio"
           for (m in g) if (m in t) printf "%-10s %12.1f %12.1f %8.2f\n", m, g[m], t[m], g[m] / t[m] }' \
  /tmp/confcal-bench.go.txt /tmp/confcal-bench.torch.txt
