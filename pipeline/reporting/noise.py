"""The noise band every comparison of two of our own numbers is held to, and where it comes from.

Two sources, in this order: the seed spread, where both numbers are means of several seeds; else the
cross-CPU band, how far the same commit's accuracies move when only the CPU kernels change. That band
is a measurement committed in one file (dvc.yaml ``vars.paths.cross_cpu_band``, written by
``benchmarks/cross_cpu_band.py``) and holds only for the settings it was measured on (data source and
schedule): elsewhere, and while the file is absent, it is "not measured", never guessed.
``stages.report --compare`` and the verdict page's gain claims both read it through this module.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

SEED_SPREAD, CROSS_CPU = "seed spread", "cross-CPU band"


@dataclass(frozen=True)
class CrossCpuBand:
    """A measured cross-CPU band (``band_pp`` None: not measured) and the settings it holds for."""

    band_pp: float | None = None
    source: str = ""  # how it was measured, in a few words
    settings: dict[str, Any] | None = None

    def applies(self, *settings: dict[str, Any]) -> bool:
        """Measured, and on these settings (each side's, when two are compared)."""
        return self.band_pp is not None and all(s == self.settings for s in settings)

    def words(self, *settings: dict[str, Any]) -> str:
        if self.band_pp is None:
            return f"{CROSS_CPU} not measured"
        if not self.applies(*settings):
            return (f"{CROSS_CPU} not measured for these settings "
                    f"(±{self.band_pp:.2f} pp is for {_words(self.settings)})")
        return f"{CROSS_CPU} ±{self.band_pp:.2f} pp ({self.source})"


NOT_MEASURED = CrossCpuBand()


@dataclass(frozen=True)
class NoiseBand:
    """The band one comparison is held to: its width in pp (None: no band), its source and a note, in words."""

    pp: float | None
    name: str
    note: str = ""

    def holds(self, delta_pp: float) -> bool:
        return self.pp is not None and abs(delta_pp) <= self.pp

    def __str__(self) -> str:
        width = "" if self.pp is None else f" ±{self.pp:.2f}"
        return f"{self.name}{width}" + (f"; {self.note}" if self.note else "")


def settings_of(data_source: str, schedule: dict[str, Any]) -> dict[str, Any]:
    """What a cross-CPU band depends on: the data source and the training schedule
    (:func:`pipeline.reporting.collect.schedule_of`)."""
    return {"data_source": data_source, **schedule}


def noise_band(seeds: int, spread_pp: float, cross_cpu: CrossCpuBand, *settings: dict[str, Any],
               spread_factor: float = 1.0) -> NoiseBand:
    """The seed spread (``spread_factor`` x the larger std) when ``seeds`` (the fewer of the two sides') > 1,
    else the cross-CPU band where it was measured on ``settings``, else no band."""
    if seeds > 1:
        factor = "" if spread_factor == 1 else f"{spread_factor:g} x "
        return NoiseBand(spread_factor * spread_pp, f"{factor}{SEED_SPREAD}")
    if cross_cpu.applies(*settings):
        return NoiseBand(cross_cpu.band_pp, CROSS_CPU)
    return NoiseBand(None, "no band", cross_cpu.words(*settings))


def read_band(path: str | os.PathLike | None) -> CrossCpuBand:
    """The committed measurement, or NOT_MEASURED when there is none."""
    if path is None or not Path(path).is_file():
        return NOT_MEASURED
    data = json.loads(Path(path).read_text())
    return CrossCpuBand(data.get("band_pp"), data.get("source", ""), data.get("settings"))


def band_rows(table_a: pd.DataFrame, table_b: pd.DataFrame) -> list[dict[str, Any]]:
    """Per Table IV row both CSV frames have an accuracy for (our own dataset's rows): both and Δ = b - a, in pp."""
    keys = ["dataset", "run"]
    a, b = (t[t["data_source"].notna()].set_index(keys)["test_acc"].dropna() for t in (table_a, table_b))
    both = a.index.intersection(b.index)
    return [{"dataset": ds, "run": run, "acc_a": round(float(a[ds, run]), 4), "acc_b": round(float(b[ds, run]), 4),
             "delta_pp": round(float(b[ds, run]) - float(a[ds, run]), 4)} for ds, run in both]


def band_of(rows: list[dict[str, Any]]) -> float | None:
    return max((abs(r["delta_pp"]) for r in rows), default=None)


def _words(settings: dict[str, Any] | None) -> str:
    if not settings:
        return "unrecorded settings"
    return ", ".join(f"{k} {v}" for k, v in settings.items() if v is not None)
