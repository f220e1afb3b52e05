"""What every stage entry shares: one argument style, the strict params, and one-line errors.

A stage module is ``main(argv)`` that parses its paths with :func:`stage_parser` (dvc.yaml
writes every path once, on the stage's command line), loads params with
:func:`pipeline.core.params.load_params`, calls ``pipeline`` and writes its outputs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, Sequence

import pipeline  # noqa: F401  (sets the no-network environment first)

KNOWN_FAILURES = (ValueError, FileNotFoundError, RuntimeError)


def stage_parser(doc: str | None) -> argparse.ArgumentParser:
    """The parser every stage uses: its module docstring as help, paths as options."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def run_stage(main: Callable[[Sequence[str] | None], None], argv: Sequence[str] | None = None) -> None:
    """Run a stage's main(); a known failure exits 1 with a one-line message instead of a traceback."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        main(argv)
    except KNOWN_FAILURES as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        sys.exit(1)
