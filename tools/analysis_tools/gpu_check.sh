#!/usr/bin/env bash
# The GPU check on a bare GPU machine without network (docs/gpu_check.md).
#
#   bash tools/analysis_tools/gpu_check.sh install WHEELS_DIR   # once per lease, may be split
#   bash tools/analysis_tools/gpu_check.sh run PAPER_REPO [OUT_DIR]
#
# install: a venv on the machine's Python with its own torch/triton/cupy
#   (--system-site-packages), our stack from the wheels in WHEELS_DIR
#   (requirements/gpu_check.txt; re-run with the next folder when the wheels
#   come in parts), this checkout (editable, no deps), and the paper's stack
#   (spikingjelly 0.0.0.0.12, timm, torchinfo, einops) in its own folder.
# run: the CUDA tests, then gpu_check.py (within 7 minutes), its report in
#   OUT_DIR/<time>/gpu_check.{json,md}.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=.gpu_venv
PAPER_SITE=.gpu_paper_site
PY=${PYTHON:-python3}
case "${1:-}" in
  install)
    WHEELS=${2:?usage: gpu_check.sh install WHEELS_DIR}
    [ -x "$VENV/bin/python" ] || "$PY" -m venv --system-site-packages "$VENV"
    # every wheel of the folder that is a requirement: the rest wait for
    # their part (pip resolves nothing from the network: --no-index)
    for w in "$WHEELS"/*.whl; do
      case "$(basename "$w")" in
        spikingjelly-0.0.0.0.12*|timm-*|torchinfo-*)
          "$VENV/bin/pip" install -q --no-index --no-deps --target "$PAPER_SITE" "$w" ;;
        *) "$VENV/bin/pip" install -q --no-index --no-deps "$w" ;;
      esac
    done
    # einops for the paper's model too (its folder comes first on its path)
    for w in "$WHEELS"/einops-*.whl; do
      [ -e "$w" ] && "$VENV/bin/pip" install -q --no-index --no-deps --target "$PAPER_SITE" "$w"
    done
    "$VENV/bin/pip" install -q --no-index --no-deps --no-build-isolation -e . 2>/dev/null \
      || echo "install: this checkout not installed yet (setuptools missing?)"
    "$VENV/bin/python" -c "import mmengine, mmpretrain, spikingjelly, spikeformer_mm; print('stack ready')" \
      || echo "install: the stack is not complete yet: bring the next part"
    ;;
  run)
    PAPER=${2:?usage: gpu_check.sh run PAPER_REPO [OUT_DIR]}
    OUT=${3:-work_dirs/gpu_check}
    "$VENV/bin/python" -c "import torch; assert torch.cuda.is_available(), 'no CUDA'; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name())"
    timeout 90 "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/test_cuda.py \
      tests/test_models/test_cuda_kernel_setting.py || echo "CUDA tests: failures above"
    timeout 420 "$VENV/bin/python" tools/analysis_tools/gpu_check.py \
      --paper-repo "$PAPER" --paper-path "$PAPER_SITE" --out-dir "$OUT" --budget-s 330
    ;;
  *) echo "usage: gpu_check.sh install WHEELS_DIR | run PAPER_REPO [OUT_DIR]" >&2; exit 2 ;;
esac
