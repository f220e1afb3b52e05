"""DVC stage benchmark: size, FLOPs, inference memory, latency and throughput of each architecture (Table V).

    python -m stages.benchmark --out reports/benchmark                 # every model of params.yaml `models`
    python -m stages.benchmark student_a student_c --out reports/benchmark

One process for all models: a stage item per model paid ~10 s of imports and DVC bookkeeping
each, more than the measurements themselves on 2 CPU cores. An architecture whose report was
measured with the same spec, settings, device and code is kept as is (``pipeline.benchmark.remeasure``),
so a re-run only re-measures what changed. The batch-1 latency of each ``emoxnet.models``
architecture goes to <out>/emoxnet/<model>.json (read by the emoxnet_report stage). Where each was
measured (device, threads, torch, Python, onnxruntime) goes to the run-facts file ``--run-facts``
(default ``<out>_run.json``, beside the folder: every file in it is a DVC metric), ``{"models":
{name: facts}, "emoxnet": {name: facts}}``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from tqdm import tqdm

from pipeline.benchmark.benchmarking import BenchmarkSettings, benchmark_model
from pipeline.benchmark.remeasure import code_digest, identity, latency_report, still_valid
from pipeline.core.atomic import write_json
from pipeline.core.devices import resolve_device
from pipeline.core.runfacts import benchmark_facts_path, read_facts, run_facts
from pipeline.core.stage import run_stage, stage_parser
from pipeline.core.stale import remove_stale
from pipeline.params.load import load_params

log = logging.getLogger("benchmark")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("model_names", nargs="*", help="keys of params.yaml models (default: all of them)")
    parser.add_argument("--out", required=True, help="folder for one <model>.json per model")
    parser.add_argument("--run-facts", help="run-facts file (default: <out>_run.json, beside the folder)")
    args = parser.parse_args(argv)
    params = load_params()
    models = params["models"]
    unknown = [name for name in args.model_names if name not in models]
    if unknown:
        raise ValueError(f"params.yaml: models has no {', '.join(map(repr, unknown))} (known: {', '.join(models)})")
    names = args.model_names or list(models)
    out = Path(args.out)
    facts = RunFacts(Path(args.run_facts) if args.run_facts else benchmark_facts_path(out))
    if not args.model_names:  # the folder mirrors `models`: reports of models no longer there go
        for stale in remove_stale(out, ["*.json"], models):
            log.info("removed %s (%r is no longer in params.yaml models)", stale, stale.stem)
        facts.keep_only("models", models)
    settings = BenchmarkSettings.from_params(params["benchmark"], params["train"]["input_size"])
    device = resolve_device(params["train"]["device"])
    machine = run_facts(device)
    if settings.onnx:
        from pipeline.benchmark.onnx_runtime import onnx_runtime_words

        machine["onnxruntime"] = onnx_runtime_words()
    code = code_digest()
    for name in tqdm(names, desc="benchmark", unit="model"):
        wanted = identity(models[name], settings, code)
        if still_valid(_read(out / f"{name}.json"), wanted, facts.get("models", name), machine):
            log.info("%s: unchanged since its last measurement (spec, settings, device, code): kept", name)
            continue
        report = {**benchmark_model(name, models[name], device, settings), "identity": wanted}
        write_json(out / f"{name}.json", report)  # the report first: killed before its facts, it is re-measured
        facts.put("models", name, machine)
        log.info("%s: %s params, %.2f MiB fp32, %.2f ms/img (b1, %dx%d), %.0f img/s, peak mem +%.1f MiB on %s",
                 name, f"{report['params']:,}", report["size_mib_fp32"], report["latency_ms_b1"],
                 report["input_size"], report["input_size"], report["throughput_img_s"],
                 report["peak_inference_memory_mib"], machine["device"])

    if not args.model_names:
        emoxnet_latencies(params, out / "emoxnet", settings, device, code, facts, machine)
    facts.write()  # once more: the file exists even when every report was kept


class RunFacts:
    """The run-facts file of the benchmark folder: one entry per architecture, each written as it is measured."""

    def __init__(self, path: Path):
        self.path = path
        data = read_facts(path)
        self.data = {group: dict(data.get(group) or {}) for group in ("models", "emoxnet")}

    def get(self, group: str, name: str) -> dict | None:
        return self.data[group].get(name)

    def put(self, group: str, name: str, facts: dict) -> None:
        self.data[group][name] = dict(facts)
        self.write()

    def keep_only(self, group: str, names) -> None:
        self.data[group] = {k: v for k, v in self.data[group].items() if k in names}

    def write(self) -> None:
        write_json(self.path, {group: dict(sorted(entries.items())) for group, entries in self.data.items()})


def emoxnet_latencies(params: dict, out: Path, settings: BenchmarkSettings, device, code: str, facts: RunFacts,
                      machine: dict) -> None:
    """Batch-1 latency of each EmoXNet architecture (params emoxnet.models), kept when unchanged."""
    models = params.get("emoxnet", {}).get("models", {})
    remove_stale(out, ["*.json"], models)
    facts.keep_only("emoxnet", models)
    for name, spec in models.items():
        wanted = identity(spec, settings, code)
        if still_valid(_read(out / f"{name}.json"), wanted, facts.get("emoxnet", name), machine):
            continue
        report = {**latency_report(name, spec, device, settings), "identity": wanted}
        write_json(out / f"{name}.json", report)
        facts.put("emoxnet", name, {k: v for k, v in machine.items() if k != "onnxruntime"})  # no ONNX here
        log.info("emoxnet %s: %.2f ms/img (b1, %dx%d)", name, report["latency_ms_b1"], report["input_size"],
                 report["input_size"])


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    run_stage(main)
