"""DVC stage benchmark: size, FLOPs, inference memory, latency and throughput of one architecture.

    python -m stages.benchmark student_a --out reports/benchmark/student_a.json
"""

from __future__ import annotations

import logging

from pipeline.core.atomic import write_json
from pipeline.core.devices import resolve_device
from pipeline.core.params import load_params
from pipeline.core.stage import run_stage, stage_parser
from pipeline.evaluation.benchmarking import BenchmarkSettings, benchmark_model

log = logging.getLogger("benchmark")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("model_name", help="a key of params.yaml models")
    parser.add_argument("--out", required=True, help="report file (.json)")
    args = parser.parse_args(argv)
    params = load_params()
    models = params["models"]
    if args.model_name not in models:
        raise ValueError(f"params.yaml: models has no {args.model_name!r} (known: {', '.join(models)})")
    settings = BenchmarkSettings.from_params(params["benchmark"], params["train"]["input_size"])
    device = resolve_device(params["train"]["device"])
    report = benchmark_model(args.model_name, models[args.model_name], device, settings)
    write_json(args.out, report)
    log.info("%s: %s params, %.2f MiB fp32, %.2f ms/img (b1, %dx%d), %.0f img/s, peak mem +%.1f MiB on %s",
             args.model_name, f"{report['params']:,}", report["size_mib_fp32"], report["latency_ms_b1"],
             report["input_size"], report["input_size"], report["throughput_img_s"],
             report["peak_inference_memory_mib"], report["device"])


if __name__ == "__main__":
    run_stage(main)
