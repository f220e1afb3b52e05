"""DVC stage `benchmark`: size, FLOPs, inference memory, latency and throughput of one architecture.

Usage: python -m stages.benchmark <model_name>   (a key of params.yaml `models`)
Writes reports/benchmark/<model_name>.json.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from stages.common import load_params, run_stage

log = logging.getLogger("benchmark")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model_name", help="a key of params.yaml `models`")
    args = parser.parse_args()

    params = load_params()
    models = params["models"]
    if args.model_name not in models:
        raise ValueError(f"params.yaml models has no {args.model_name!r} (known: {sorted(models)})")

    from pipeline.atomic import write_json
    from pipeline.benchmarking import BenchmarkSettings, benchmark_model
    from pipeline.device_data import resolve_device
    settings = BenchmarkSettings.from_params(params.get("benchmark", {}), params["train"].get("input_size"))
    device = resolve_device(params["train"].get("device", "auto"))
    report = benchmark_model(args.model_name, models[args.model_name], device, settings)
    write_json(Path("reports/benchmark") / f"{args.model_name}.json", report)
    log.info("%s: %s params, %.2f MiB fp32, %.2f ms/img (b1, %dx%d), %.0f img/s, peak mem +%.1f MiB on %s",
             args.model_name, f"{report['params']:,}", report["size_mib_fp32"], report["latency_ms_b1"],
             report["input_size"], report["input_size"], report["throughput_img_s"],
             report["peak_inference_memory_mib"], report["device"])


if __name__ == "__main__":
    run_stage(main)
