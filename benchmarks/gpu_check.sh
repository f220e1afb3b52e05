#!/usr/bin/env bash
# The GPU check as the device tool runs it (issue 18): `run` with carry [".gpu"] and timeout_s 600,
#   bash benchmarks/gpu_check.sh
# after `uv run python benchmarks/gpu_check.py subset data/prepared/dataset.npz .gpu/fer2013-subset.npz` here.
# The device's python3 holds PyTorch, numpy, scikit-learn, PyYAML and tqdm: all the check imports.
# What comes back in $OUT: gpu_check.json, gpu_check.log, nvidia-smi.txt; commit the JSON as
# benchmarks/results/gpu_check-<gpu>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/results}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 MPLBACKEND=Agg
[ -f .gpu/fer2013-subset.npz ] || { echo "no .gpu/fer2013-subset.npz: make it here first (see above) and carry .gpu" >&2; exit 2; }
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
python3 benchmarks/gpu_check.py run --data .gpu/fer2013-subset.npz --out "$OUT/gpu_check.json" --budget-s "${BUDGET_S:-450}" \
    2>&1 | tee "$OUT/gpu_check.log"
