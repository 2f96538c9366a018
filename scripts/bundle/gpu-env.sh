# shellcheck shell=bash
# Environment for running confcal on GoMLX's XLA backend with a CUDA PJRT plugin, on any machine
# whose Python environment has JAX's CUDA plugin (pip install "jax[cuda13]", or jax[cuda12]), or
# with a plugin given by path. Source it (bash):
#
#   source gpu-env.sh || exit 1          # in a bundle (run.sh does it), or scripts/gpu-env.sh in a checkout
#
# It finds the PJRT CUDA plugin (.so) and the NVIDIA library folders of the Python environment and
# exports:
#   GOMLX_BACKEND=xla:<absolute path of the plugin>, GOMLX_NO_AUTO_INSTALL=1, GOPJRT_CUDA_CHECKS=0,
#   LD_LIBRARY_PATH (the site-packages/nvidia/*/lib folders first), TF_CPP_MIN_LOG_LEVEL=1 (XLA
#   warnings visible), CONFCAL_XLA_CACHE (XLA's per-fusion autotune cache, per user, GPU model and
#   plugin version; the backend puts it into XLA_FLAGS), CONFCAL_PY (the Python it used, e.g. for
#   bench/torch_gpu.py), CONFCAL_ORIG_LD_LIBRARY_PATH (LD_LIBRARY_PATH as it was, for running PyTorch,
#   which brings its own libraries).
#
# Where it looks for the plugin: $CONFCAL_PJRT_PLUGIN if set; else jax_plugins/*/xla_cuda_plugin.so
# (then any *cuda*plugin*.so or *pjrt*.so) in the site-packages of $CONFCAL_PY, else of the active
# virtual environment or conda environment, else of python3 on PATH; else xla_cuda_plugin.so or
# pjrt_c_api_cuda_plugin.so under /opt, /usr/local and /usr/lib (at most 20 s).
#
# Other settings (before sourcing): CONFCAL_XLA_CACHE (a directory, or "off"), CONFCAL_XLA_CACHE_ROOT
# (where the per-GPU cache folders go; default ${XDG_CACHE_HOME:-$HOME/.cache}/confcal/xla-autotune),
# CONFCAL_XLA_EXTRA_FLAGS (added to XLA_FLAGS; XLA aborts on a flag it does not know, so check names
# against this plugin's XLA first).
# It returns non-zero, with a message, when no plugin is found; nothing else makes it fail.

_cc_say() { echo "gpu-env: $*" >&2; }

_cc_main() {
  local site plat d s plugin="" nvlibs="" gpu="" gpu_slug plugin_ver="" root libdevice
  export CONFCAL_ORIG_LD_LIBRARY_PATH="${CONFCAL_ORIG_LD_LIBRARY_PATH-${LD_LIBRARY_PATH:-}}"

  # Python: $CONFCAL_PY, else the active virtual/conda environment's, else python3 on PATH.
  if [ -z "${CONFCAL_PY:-}" ]; then
    for d in "${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python3}" "${CONDA_PREFIX:+$CONDA_PREFIX/bin/python3}" "$(command -v python3 2>/dev/null)"; do
      [ -n "$d" ] && [ -x "$d" ] && { CONFCAL_PY=$d; break; }
    done
  fi
  export CONFCAL_PY="${CONFCAL_PY:-python3}"

  # site-packages folders where pip puts jax_plugins/ and nvidia/.
  local sites=()
  site=$(timeout -k 2 20 "$CONFCAL_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)
  plat=$(timeout -k 2 20 "$CONFCAL_PY" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])' 2>/dev/null)
  for d in "$site" "$plat"; do
    [ -n "$d" ] && [ -d "$d" ] || continue
    case " ${sites[*]} " in *" $d "*) ;; *) sites+=("$d") ;; esac
  done

  # The PJRT CUDA plugin: JAX's (jax_plugins/xla_cuda*/xla_cuda_plugin.so), else any CUDA/PJRT .so there.
  plugin=${CONFCAL_PJRT_PLUGIN:-}
  if [ -z "$plugin" ]; then
    for s in "${sites[@]}"; do
      [ -d "$s/jax_plugins" ] || continue
      plugin=$(find "$s/jax_plugins" -name 'xla_cuda_plugin.so' 2>/dev/null | sort | head -1)
      [ -z "$plugin" ] && plugin=$(find "$s/jax_plugins" -iname '*cuda*plugin*.so' 2>/dev/null | sort | head -1)
      [ -z "$plugin" ] && plugin=$(find "$s/jax_plugins" -iname '*pjrt*.so' 2>/dev/null | sort | head -1)
      [ -n "$plugin" ] && break
    done
  fi
  if [ -z "$plugin" ]; then
    _cc_say "no plugin under site-packages (${sites[*]:-none found}); searching /opt /usr/local /usr/lib (<= 20 s)"
    plugin=$(timeout -k 2 20 find /opt /usr/local /usr/lib -xdev \( -name 'xla_cuda_plugin.so' -o -name 'pjrt_c_api_cuda_plugin.so' \) 2>/dev/null | head -1)
  fi
  if [ -z "$plugin" ] || [ ! -f "$plugin" ]; then
    _cc_say "ERROR: no PJRT CUDA plugin found (looked for jax_plugins/*/xla_cuda_plugin.so in the site-packages of $CONFCAL_PY: ${sites[*]:-none}, then pjrt_c_api_cuda_plugin.so under /opt /usr/local /usr/lib)."
    _cc_say "Install JAX's CUDA plugin (pip install \"jax[cuda13]\"), point CONFCAL_PY at the Python that has it, or set CONFCAL_PJRT_PLUGIN=/abs/path/plugin.so."
    return 1
  fi
  plugin=$(readlink -f "$plugin")

  # NVIDIA libraries of the pip wheels (cuDNN, cuBLAS, ...). The plugin's RPATH also points there;
  # LD_LIBRARY_PATH makes it independent of the folder layout.
  for s in "${sites[@]}"; do
    for d in "$s"/nvidia/*/lib "$s"/nvidia/*/lib64; do
      [ -d "$d" ] && nvlibs="${nvlibs:+$nvlibs:}$d"
    done
  done
  if [ -n "$nvlibs$CONFCAL_ORIG_LD_LIBRARY_PATH" ]; then
    export LD_LIBRARY_PATH="${nvlibs}${CONFCAL_ORIG_LD_LIBRARY_PATH:+${nvlibs:+:}$CONFCAL_ORIG_LD_LIBRARY_PATH}"
  else
    _cc_say "warning: no nvidia/*/lib folders in site-packages: the plugin must find cuDNN/cuBLAS by itself"
  fi

  # libdevice: only when there is no system CUDA to find it in (/usr/local/cuda).
  if [[ "${XLA_FLAGS:-}" != *xla_gpu_cuda_data_dir* ]] && [ ! -d /usr/local/cuda/nvvm/libdevice ]; then
    for s in "${sites[@]}"; do
      libdevice=$(find "$s/nvidia" -name 'libdevice*.bc' 2>/dev/null | head -1)
      if [ -n "$libdevice" ]; then
        export XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }--xla_gpu_cuda_data_dir=$(dirname "$(dirname "$(dirname "$libdevice")")")"
        break
      fi
    done
  fi
  if [ -n "${CONFCAL_XLA_EXTRA_FLAGS:-}" ]; then
    export XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }$CONFCAL_XLA_EXTRA_FLAGS"
  fi

  export GOMLX_BACKEND="xla:$plugin"
  export GOMLX_NO_AUTO_INSTALL=1
  export GOPJRT_CUDA_CHECKS=0
  export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-1}"

  # XLA autotune cache: per user (under $HOME), per GPU model and per plugin (XLA) version.
  gpu=$(timeout -k 2 20 nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  gpu_slug=$(printf '%s' "${gpu:-unknown-gpu}" | tr -c 'A-Za-z0-9._-' '_')
  for s in "${sites[@]}"; do
    for d in "$s"/jax_cuda*_pjrt-*.dist-info; do
      [ -d "$d" ] && { plugin_ver=$(basename "$d" .dist-info); break 2; }
    done
  done
  [ -z "$plugin_ver" ] && plugin_ver="$(basename "$(dirname "$plugin")")-$(stat -c %s "$plugin" 2>/dev/null)"
  plugin_ver=$(printf '%s' "$plugin_ver" | tr -c 'A-Za-z0-9._-' '_')
  root="${CONFCAL_XLA_CACHE_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/confcal/xla-autotune}"
  export CONFCAL_XLA_CACHE_ROOT="$root"
  if [ -z "${CONFCAL_XLA_CACHE:-}" ]; then
    export CONFCAL_XLA_CACHE="$root/$gpu_slug/$plugin_ver"
  fi
  if [ "${CONFCAL_XLA_CACHE,,}" != off ]; then
    mkdir -p "$CONFCAL_XLA_CACHE"
  fi

  _cc_say "GPU: ${gpu:-none reported by nvidia-smi}"
  _cc_say "python: $CONFCAL_PY (site-packages: ${sites[*]:-none})"
  _cc_say "GOMLX_BACKEND=$GOMLX_BACKEND"
  _cc_say "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-<unset>}"
  _cc_say "XLA_FLAGS=${XLA_FLAGS:-<unset>} (the backend adds the autotune cache flag)"
  if [ "${CONFCAL_XLA_CACHE,,}" = off ]; then
    _cc_say "autotune cache: off"
  else
    _cc_say "autotune cache: $CONFCAL_XLA_CACHE ($(find "$CONFCAL_XLA_CACHE" -type f 2>/dev/null | wc -l) entries)"
  fi
  return 0
}

_cc_main
