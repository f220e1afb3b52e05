"""int8 latency: the release model's fp32 file and its int8 copy timed side by side on the CPU.

    uv run python benchmarks/int8_latency.py                       # release/fer2013.onnx vs release/fer2013-int8.onnx
    uv run python benchmarks/int8_latency.py --accuracy            # plus PrivateTest accuracy, as analyze runs them
    uv run python benchmarks/int8_latency.py --files a.onnx b.onnx --threads 1 --json out.json

ONNX Runtime (CPUExecutionProvider) as `analyze` runs a model: batch-1 latency (one face at a time) per
intra-op thread count, and batch-32 throughput. The files are measured interleaved (each round: every
thread count, every file, a fresh session) and each figure is the median over rounds of the median of
many runs, so a change in the machine's load hits every file alike; the load average is printed, since on
a shared machine the absolute figures are upper bounds. The release card's speed table comes from the
same code (pipeline/export/latency.py).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pipeline  # noqa: F401  (telemetry off before any import)
from pipeline.export import latency

REPO_ROOT = Path(__file__).resolve().parents[1]


def accuracy(path: Path, csv: Path) -> float:
    """FER2013 PrivateTest accuracy of an ONNX file, preprocessing and flip averaging from its metadata."""
    from pipeline.export.release import load_data, onnx_probabilities

    test_x, test_y = load_data(csv).subset("test")
    return float((onnx_probabilities(path, test_x).argmax(1) == test_y).mean())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", nargs="+", type=Path,
                   default=[REPO_ROOT / "release/fer2013.onnx", REPO_ROOT / "release/fer2013-int8.onnx"],
                   help="ONNX files to time (default: the release model and its int8 copy)")
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="intra-op thread counts")
    p.add_argument("--repeats", type=int, default=5, help="interleaved rounds (the median is reported)")
    p.add_argument("--runs", type=int, default=300, help="timed batch-1 runs per round")
    p.add_argument("--batch", type=int, default=32, help="batch size of the throughput figure (1: skip it)")
    p.add_argument("--batch-runs", type=int, default=40, help="timed batch runs per round")
    p.add_argument("--accuracy", action="store_true", help="also score each file on FER2013 PrivateTest (--faces)")
    p.add_argument("--faces", type=Path, default=REPO_ROOT.parent / "shared/data/fer2013.csv.gz",
                   help="FER2013 CSV for --accuracy")
    p.add_argument("--json", type=Path, help="write every number here")
    args = p.parse_args(argv)

    paths = {f.name: f for f in args.files}
    result = latency.compare(paths, args.threads, args.repeats, args.runs, args.batch_runs, args.batch)
    m = result["machine"]
    print(f"{m['cpu']}, {m['cores']} cores, int8 instructions {m['int8_instructions']}, onnxruntime "
          f"{m['onnxruntime']}; load average {m['load_average']} before, {m['load_average_after']} after")
    print(latency.describe(result, list(paths)))
    first, *others = list(paths)
    for name in others:
        ms = {n: {t: result["files"][n][f"threads_{t}"]["batch1_ms"] for t in args.threads} for n in (first, name)}
        ratios = ", ".join(f"{ms[name][t] / ms[first][t]:.2f}x ({t} thread{'s' if t > 1 else ''})"
                           for t in args.threads)
        print(f"{name} / {first} batch-1 time: {ratios}")
    if args.accuracy:
        result["accuracy"] = {name: accuracy(path, args.faces) for name, path in paths.items()}
        print("PrivateTest accuracy: " + ", ".join(f"{n} {100 * a:.2f} %" for n, a in result["accuracy"].items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
