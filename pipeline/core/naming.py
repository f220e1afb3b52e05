"""What a trained run is (its kind) and the name it goes by in tables, exports and the analyze command.

Training and evaluation metrics carry ``kind`` and ``run``; consumers find runs by that content,
not by a path convention shared with dvc.yaml, and name them with :func:`run_key`. Every kind is a
member of :class:`RunKind`, a ``str`` enum: it is written to JSON and checkpoints as its plain value.
"""

from __future__ import annotations

from enum import StrEnum


class RunKind(StrEnum):
    TEACHER = "teacher"  # the ResEmoteNet teacher
    DISTILL = "distill"  # a student distilled from the teacher (distill.runs: E1...E6)
    BASELINE = "baseline"  # a student trained without a teacher
    EMOXNET_MEMBER = "emoxnet_member"  # a trained EmoXNet ensemble member
    EMOXNET_ENSEMBLE = "emoxnet_ensemble"  # the ensemble itself (evaluated, never trained)
    LITE = "lite"  # EmoXNetLite, distilled from the ensemble
    LITE_BASELINE = "lite_baseline"  # the same network trained without the ensemble


RUN_KINDS = (RunKind.TEACHER, RunKind.DISTILL, RunKind.BASELINE)  # the Mini-ResEmoteNet runs (the paper's tables)
LITE_KINDS = (RunKind.LITE, RunKind.LITE_BASELINE)
EXPORTED_KINDS = RUN_KINDS + LITE_KINDS  # what `analyze` can run (the ensemble's members are teachers)


def run_key(kind: str, run: str) -> str:
    """The teacher, a distill run id (E1), ``baseline_<student>``, ``emoxnet_lite``, ``emoxnet_member_<name>``."""
    kind = RunKind(kind)
    if kind is RunKind.BASELINE:
        return f"baseline_{run}"
    if kind is RunKind.EMOXNET_MEMBER:
        return f"emoxnet_member_{run}"
    if kind in LITE_KINDS:
        return f"emoxnet_{run}"
    return run
