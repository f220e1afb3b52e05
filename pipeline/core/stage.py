"""What every stage entry shares: one argument style, the strict params, and one-line errors.

A stage module is ``main(argv)`` that parses its paths with :func:`stage_parser` (dvc.yaml
writes every path once, on the stage's command line), loads params with
:func:`pipeline.params.load.load_params`, calls ``pipeline`` and writes its outputs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, Sequence

import pipeline  # noqa: F401  (sets the no-network environment first)
from pipeline.core.params import portable_kernels_requested

KNOWN_FAILURES = (ValueError, FileNotFoundError, RuntimeError)


def stage_parser(doc: str | None) -> argparse.ArgumentParser:
    """The parser every stage uses: its module docstring as help, paths as options."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def run_stage(main: Callable[[Sequence[str] | None], None], argv: Sequence[str] | None = None) -> None:
    """Run a stage's main(); a known failure exits 1 with a one-line message instead of a traceback.

    With params ``train.portable_kernels`` the process's CPU kernels are held to AVX2 first (a stage
    process only: ``argv`` None), so training and evaluation give the same bytes on other CPUs.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if argv is None and portable_kernels_requested():
        from pipeline.core.devices import pin_portable_kernels

        pin_portable_kernels()
    try:
        main(argv)
    except KNOWN_FAILURES as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        sys.exit(1)
