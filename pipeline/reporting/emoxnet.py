"""EmoXNet's tables: members, ensemble and Lite beside the paper's four numbers; Lite vs Mini-ResEmoteNet.

Params and FLOPs are counted on the trained checkpoints (the benchmark's FLOPs counter); batch-1
latency comes from the benchmark stage (``<benchmarks>/emoxnet/<model>.json``, timed like Table V's
models at ``benchmark.primary_input_size``), so "accuracy per ms" compares like with like on one
device and a re-run of the report writes the same bytes (:mod:`pipeline.reporting.emoxnet_page`
gathers the inputs and writes the pages). The ensemble's params, FLOPs and latency are its members'
sums (members run one after another).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.benchmark.benchmarking import size_mib_fp32
from pipeline.benchmark.speed import Speed
from pipeline.core.naming import RunKind
from pipeline.reporting import paper


def _paper(row: str, dataset: str) -> float | None:
    ref = paper.EMOXNET_ACCURACY.get(row, {}).get(dataset)
    return ref.value if ref is not None else None


def emoxnet_table(ensemble: dict[str, Any], lite: dict[str, Any] | None, baseline: dict[str, Any] | None,
                  speeds: dict[str, Speed], dataset: str, input_size: int) -> pd.DataFrame:
    """One row per member, the ensemble, the Lite and its baseline; ours (test %) beside the paper's."""
    rows = []
    for name, member in ensemble["members"].items():
        rows.append({"model": name, "role": f"member ({member['family']}, weight {member['weight']:.3f})",
                     "speed": speeds.get(name), "test_acc": member["test_acc"], "paper": None})
    member_speeds = [speeds[n] for n in ensemble["members"] if n in speeds]
    total = Speed(sum(s.params for s in member_speeds), sum(s.flops for s in member_speeds),
                  sum(s.latency_ms for s in member_speeds)) if len(member_speeds) == len(ensemble["members"]) else None
    rows.append({"model": "EmoXNet", "role": f"ensemble ({ensemble['rule']})", "speed": total,
                 "test_acc": ensemble["test_acc"], "paper": "EmoXNet"})
    for name, metrics, role, ref in (("EmoXNetLite", lite, "distilled (smoothed_kd)", "EmoXNetLite"),
                                     ("EmoXNetLite baseline", baseline, "same net, plain CE", None)):
        if metrics is not None:
            rows.append({"model": name, "role": role, "speed": speeds.get(name), "test_acc": metrics["test_acc"],
                         "paper": ref})
    out = []
    for r in rows:
        s: Speed | None = r["speed"]
        out.append({
            "model": r["model"], "role": r["role"],
            "params": s.params if s else None,
            "size_mib_fp32": round(size_mib_fp32(s.params), 2) if s else None,
            f"gflops_at_{input_size}": round(s.flops / 1e9, 4) if s else None,
            f"latency_ms_b1_at_{input_size}": round(s.latency_ms, 3) if s else None,
            f"test_acc_{dataset}": round(100 * r["test_acc"], 2),
            "paper_fer_plus": _paper(r["paper"], "FER+") if r["paper"] else None,
            "paper_raf_db": _paper(r["paper"], "RAF-DB") if r["paper"] else None,
        })
    return pd.DataFrame(out)


def lite_vs_mini(lite_rows: dict[str, tuple[dict, Speed]], mini_rows: dict[str, tuple[dict, dict]]) -> pd.DataFrame:
    """Accuracy per million parameters and per millisecond: EmoXNetLite against the Mini-ResEmoteNet students.

    ``lite_rows``: name -> (eval metrics, Speed); ``mini_rows``: run -> (eval metrics, benchmark report).
    """
    out = []
    for name, (metrics, speed) in lite_rows.items():
        out.append(_efficiency(name, "EmoXNetLite", metrics["test_acc"], speed.params, speed.latency_ms))
    for run, (metrics, bench) in mini_rows.items():
        family = "ResEmoteNet (teacher)" if metrics.get("kind") == RunKind.TEACHER else f"Mini-ResEmoteNet ({metrics.get('model')})"
        out.append(_efficiency(run, family, metrics["test_acc"],
                               int(bench["params"]), float(bench["latency_ms_b1"])))
    return pd.DataFrame(out)


def _efficiency(name: str, family: str, acc: float, params: int, latency_ms: float) -> dict[str, Any]:
    return {"model": name, "family": family, "test_acc": round(100 * acc, 2), "params_m": round(params / 1e6, 3),
            "latency_ms_b1": round(latency_ms, 3), "acc_per_m_params": round(100 * acc / (params / 1e6), 2),
            "acc_per_ms": round(100 * acc / latency_ms, 2)}
