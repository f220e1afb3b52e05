"""The name a trained run goes by in tables, exports and the analyze command.

Training and evaluation metrics carry ``kind`` and ``run``; consumers find runs by that content,
not by a path convention shared with dvc.yaml, and name them with :func:`run_key`.
"""

RUN_KINDS = ("teacher", "distill", "baseline")


def run_key(kind: str, run: str) -> str:
    """The teacher, a distill run id (E1), or ``baseline_<student>``."""
    return f"baseline_{run}" if kind == "baseline" else run
