"""``evaluate-folder``: score an exported model on a folder of class-named subfolders of face images.

    uv run evaluate-folder faces/                       # the release model (as analyze uses)
    uv run evaluate-folder ckplus/ --model E4 --json out/ckplus.json

Folder names map to the model's classes through pipeline/crosseval/aliases.py (anger -> angry,
sadness -> sad, happiness -> happy, JAFFE's AN/DI/FE/HA/SA/SU/NE...); a class the model lacks
(contempt for a 7-class model) is skipped and reported. Prints accuracy, per-class recall and
support; writes the metrics and confusion matrix as JSON and the matrix as a PNG beside it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pipeline  # noqa: F401  (telemetry off before any import)
from pipeline.export.resolve import DEFAULT_MODEL, resolve_model

log = logging.getLogger("evaluate-folder")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="evaluate-folder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="folder holding one subfolder of face images per class")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"exported .onnx file or run name (E1..E6, teacher, ...); default {DEFAULT_MODEL}")
    p.add_argument("--models-dir", help="where run names are looked up (default models/export)")
    p.add_argument("--json", help="metrics file to write (default evaluation/<folder>/<model>.json); "
                                  "the confusion-matrix PNG goes beside it")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: all cores)")
    return p


def main(argv=None) -> int:
    from pipeline.crosseval.folder import read_folder
    from pipeline.export.classifier import OnnxClassifier

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    try:
        classifier = OnnxClassifier(resolve_model(args.model, args.models_dir), threads=args.threads)
        meta = classifier.meta
        folder = read_folder(args.folder, meta.class_names, meta.input_size, meta.image_mode)
        from pipeline.crosseval.score import score_folder, summary_lines, write_scores  # torch, scikit-learn: ~3 s

        scores = score_folder(classifier, folder)
        out = Path(args.json) if args.json else Path("evaluation") / Path(args.folder).resolve().name / f"{scores['model']}.json"
        png = write_scores(out, scores, folder)
    except (FileNotFoundError, ValueError) as exc:
        print(f"evaluate-folder: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary_lines(scores)))
    print(f"wrote {out} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
