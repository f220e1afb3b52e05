"""The name a trained run goes by in tables, exports and the analyze command.

Training and evaluation metrics carry ``kind`` and ``run``; consumers find runs by that content,
not by a path convention shared with dvc.yaml, and name them with :func:`run_key`.
"""

RUN_KINDS = ("teacher", "distill", "baseline")  # the Mini-ResEmoteNet runs (the paper's tables)


def run_key(kind: str, run: str) -> str:
    """The teacher, a distill run id (E1), ``baseline_<student>``, ``emoxnet_lite``, ``emoxnet_member_<name>``."""
    if kind == "baseline":
        return f"baseline_{run}"
    if kind == "emoxnet_member":
        return f"emoxnet_member_{run}"
    if kind in ("lite", "lite_baseline"):
        return f"emoxnet_{run}"
    return run
