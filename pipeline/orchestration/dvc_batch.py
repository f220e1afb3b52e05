"""Several DVC commands in one process: a stage item's pull, repro and push pay DVC's start-up once.

    python -m pipeline.orchestration.dvc_batch pull a b --then repro --single-item --pull c --then push c

Each command goes through DVC's own command line (`dvc.cli.main`, as `python -m dvc` would run it:
the same output, the same `ERROR:` lines), one after another; the first that fails stops the batch
with its exit status. Before each, a `$ dvc ...` line; after it, `dvc-batch: <command> <seconds>`,
which worker_run reads back as the item's phases. Starting DVC costs ~0.7 s of imports, paid once
here instead of once per command.
"""

from __future__ import annotations

import sys
import time

SEPARATOR = "--then"
TIMING_PREFIX = "dvc-batch: "


def split_commands(argv: list[str]) -> list[list[str]]:
    """DVC command lines separated by ``--then`` (empty ones refused)."""
    commands: list[list[str]] = [[]]
    for arg in argv:
        if arg == SEPARATOR:
            commands.append([])
        else:
            commands[-1].append(arg)
    if any(not command for command in commands):
        raise SystemExit(f"dvc_batch: empty command in {' '.join(argv)!r} (commands are separated by {SEPARATOR})")
    return commands


def batch_args(*commands: list[str]) -> list[str]:
    """Arguments of this module for ``commands`` (the inverse of :func:`split_commands`)."""
    out: list[str] = []
    for command in commands:
        out += ([SEPARATOR] if out else []) + list(command)
    return out


def read_timings(output: str) -> list[tuple[str, float]]:
    """(command name, seconds) of each command a batch ran, in order, from its output."""
    timings = []
    for line in output.splitlines():
        if line.startswith(TIMING_PREFIX):
            name, seconds = line[len(TIMING_PREFIX):].rsplit(" ", 1)
            timings.append((name, float(seconds)))
    return timings


def main(argv: list[str] | None = None) -> int:
    from dvc.cli import main as dvc_main

    for command in split_commands(list(sys.argv[1:] if argv is None else argv)):
        print(f"$ dvc {' '.join(command)}", flush=True)
        started = time.monotonic()
        code = dvc_main(command)
        sys.stdout.flush()
        print(f"{TIMING_PREFIX}{command[0]} {time.monotonic() - started:.3f}", flush=True)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
