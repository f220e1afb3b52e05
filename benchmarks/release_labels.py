"""Both releases on both label sets of the same PrivateTest faces: which model agrees with which truth.

    uv run python benchmarks/release_labels.py                     # ../shared/data's FER2013 CSV and FER+ votes
    uv run python benchmarks/release_labels.py --data DIR --json out.json

FER2013's PrivateTest labels (one annotator per face, 3,589 faces) and FER+'s majority of ten annotators
(Microsoft's protocol, 3,153 of the same faces, contempt added) disagree on many faces. Each release is
scored on both, as `analyze` runs it (ONNX file, its metadata's preprocessing and flip averaging); a face
whose true class the model lacks (contempt for the 7-class model) counts as wrong in "all" and is left out
of "classes it has". docs/analyze.md ("Which release") cites this table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from pipeline.export.metadata import read_meta
from pipeline.export.release import onnx_probabilities
from pipeline.export.resolve import RELEASE_MODELS
from pipeline.sources.fer2013 import SOURCE as FER2013
from pipeline.sources.ferplus import SOURCE as FERPLUS
from pipeline.sources.ferplus import VOTES_FILE

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def label_sets(data_dir: Path) -> dict:
    """{name: (test faces, true class names)} for FER2013's and FER+'s labels of the PrivateTest faces."""
    raw = Path(tempfile.mkdtemp(prefix="release_labels_"))
    for path in (data_dir / "fer2013.csv.gz", data_dir / "ferplus" / VOTES_FILE):
        (raw / path.name).symlink_to(path.resolve())
    loaded = {"FER2013 labels": FER2013.read(FER2013.files(raw), {}).data,
              "FER+ majority labels": FERPLUS.read(FERPLUS.files(raw), {"ferplus_classes": 8,
                                                                          "ferplus_target": "majority"}).data}
    return {name: (data.subset("test")[0], np.array(data.class_names)[data.subset("test")[1]])
            for name, data in loaded.items()}


def score(model: Path, faces: np.ndarray, truth: np.ndarray) -> dict:
    names = np.array(read_meta(model).class_names)
    predicted = names[onnx_probabilities(model, faces).argmax(1)]
    known = np.isin(truth, names)
    return {"n": int(len(truth)), "accuracy": float(np.mean(predicted == truth)),
            "n_classes_it_has": int(known.sum()), "accuracy_classes_it_has": float(np.mean(predicted[known] == truth[known]))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="folder with fer2013.csv.gz and ferplus/")
    parser.add_argument("--models", nargs="+", default=["release", "release-ferplus"], help="release names")
    parser.add_argument("--json", type=Path, help="also write the table as JSON")
    args = parser.parse_args(argv)
    sets = label_sets(args.data)
    results = {model: {name: score(RELEASE_MODELS[model], *pair) for name, pair in sets.items()} for model in args.models}
    print("| model | " + " | ".join(sets) + " |")
    print("|---|" + "--:|" * len(sets))
    for model, row in results.items():
        print(f"| `{model}` | " + " | ".join(f"{100 * r['accuracy']:.2f} % ({r['n']:,} faces)" for r in row.values()) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
