#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment in ./.venv with the
# pinned OpenMMLab stack of requirements/*.txt (docs/stack.md says why).
# Safe to re-run: every step is skipped when already done, and the mmcv
# wheel (a ~10 minute build) is cached per machine under ${SPIKEFORMER_CACHE:-~/.cache/spikeformer_mm}.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
CACHE="${SPIKEFORMER_CACHE:-$HOME/.cache/spikeformer_mm}"
STAMP="$VENV/.spikeformer_mm_setup"

REQ="$ROOT/requirements"
# Every version pin lives in requirements/*.txt (read by setup.py too):
#   build.txt      pip/setuptools/wheel for mmcv's build
#   torch.txt      torch + torchvision
#   runtime.txt    what the stack imports; installed with dependencies
#   openmmlab.txt  mmengine, mmdet, mmseg, mmpretrain, spikingjelly: --no-deps,
#                  since their wheels declare too little (torch, mmcv) or too
#                  much (spikingjelly: torchaudio, tensorboard...)
#   mmcv.txt       built from source below, with its compiled ops
#   tests.txt      the test runner and the linter
#   events.txt     tonic (projects/event_digits)
#   deploy.txt     ONNX export, onnxruntime, OpenVINO
#   demo.txt       Gradio and selenium (projects/gradio_demo); the browser
#                  itself is Debian's chromium, installed below when root
MMCV_VERSION="$(sed -n 's/^mmcv==\([0-9.]*\).*/\1/p' "$REQ/mmcv.txt")"
[ -n "$MMCV_VERSION" ] || { echo "requirements/mmcv.txt: no 'mmcv==X' pin" >&2; exit 1; }

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# The stamp records the inputs of the last successful setup; if they are the
# same, there is nothing to do (a second `make test` starts at once).
want="$(cat "$0" "$ROOT/setup.py" "$REQ"/*.txt 2>/dev/null | sha256sum | cut -c1-16)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
# pip's "Location ... is ignored" warnings about this machine's local indexes
# are noise: filter them, keep everything else.
pip_q() {
  "$VPY" -m pip install --disable-pip-version-check -q "$@" \
    2> >(grep -v "WARNING: Location" >&2)
}

log "installing build tools and torch ($(grep -v '^#' "$REQ/torch.txt" | xargs))"
pip_q --upgrade -r "$REQ/build.txt"
pip_q -r "$REQ/torch.txt"
pip_q -r "$REQ/runtime.txt" -r "$REQ/tests.txt" -r "$REQ/events.txt" \
  -r "$REQ/deploy.txt" -r "$REQ/demo.txt"

# ---- a headless browser for the browser demo's test ------------------------
# Debian's chromium and its driver (nothing downloaded by selenium). Where it
# cannot be installed (not root, no apt), the reason is written to
# $VENV/.no-browser and that test says so; elsewhere a missing browser fails it.
rm -f "$VENV/.no-browser"
if ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's chromium and chromium-driver (the browser demo's test)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        chromium chromium-driver; } > "$VENV/.apt-chromium.log" 2>&1 ||
      echo "apt-get install chromium chromium-driver failed (see $VENV/.apt-chromium.log)" > "$VENV/.no-browser"
  else
    echo "chromium and chromedriver are not installed and setup is not root: install them (Debian: apt-get install chromium chromium-driver)" > "$VENV/.no-browser"
  fi
fi

# mmengine first: importing mmcv needs it
log "installing OpenMMLab packages and spikingjelly"
pip_q --no-deps -r "$REQ/openmmlab.txt"

# ---- mmcv with compiled ops, built once per machine -------------------------
read -r TORCH_V CUDA_OK < <("$VPY" - <<'PY'
import torch
print(torch.__version__.split('+')[0], int(torch.cuda.is_available()))
PY
)
WITH_CUDA=0
if [ "$CUDA_OK" = 1 ] && command -v nvcc >/dev/null 2>&1; then WITH_CUDA=1; fi
PYTAG="$("$VPY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
KEY="mmcv-${MMCV_VERSION}-torch${TORCH_V}-${PYTAG}-$([ $WITH_CUDA = 1 ] && echo cuda || echo cpu)"
WHEEL_DIR="$CACHE/$KEY"
if ! "$VPY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" >/dev/null 2>&1; then
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION with compiled ops (CUDA=$WITH_CUDA); takes about 10 minutes on 2 cores, once per machine"
    BUILD="$(mktemp -d)"
    trap 'rm -rf "$BUILD"' EXIT
    "$VPY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
      --no-build-isolation "mmcv==$MMCV_VERSION" -d "$BUILD" 2> >(grep -v "WARNING: Location" >&2)
    tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.14 headers need C++20; mmcv's setup.py forces C++17.
    sed -i 's/-std=c++17/-std=c++20/g; s/std=c++14/std=c++20/g' "$SRC/setup.py"
    (cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA=$WITH_CUDA MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "$VPY" -m pip wheel --disable-pip-version-check --no-build-isolation --no-deps -w "$BUILD/dist" . \
      > "$BUILD/build.log" 2>&1) || { tail -40 "$BUILD/build.log"; log "mmcv build failed (log above)"; exit 1; }
    # Publish the wheel atomically: a half-copied wheel is never seen as cached.
    mkdir -p "$CACHE"
    TMPD="$(mktemp -d "$CACHE/.tmp-XXXX")"
    cp "$BUILD"/dist/mmcv-*.whl "$TMPD/"
    rm -rf "$WHEEL_DIR"; mv "$TMPD" "$WHEEL_DIR"
  fi
  log "installing mmcv from $WHEEL_DIR"
  pip_q --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl
  "$VPY" -c "import mmcv.ops" || { log "mmcv was installed without its compiled ops"; exit 1; }
fi

log "installing spikeformer_mm (editable)"
pip_q --no-deps --no-build-isolation -e "$ROOT"
"$VPY" -c "import spikeformer_mm, mmcv.ops, mmdet, mmseg, mmpretrain, spikingjelly" 
echo "$want" > "$STAMP"
log "done: $VENV"
