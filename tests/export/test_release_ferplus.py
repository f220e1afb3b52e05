"""The committed FER+ release (8 classes, contempt included), scored from the raw CSVs: FER2013's pixels and
Microsoft's FER+ votes in ../shared/data, majority labels by Microsoft's protocol, onnxruntime on the file alone.
The commands users run it with are tested beside the default's: tests/analyze/test_real_faces.py,
tests/crosseval/test_evaluate_folder.py."""

from __future__ import annotations

import json

import pytest

from pipeline.export.resolve import RELEASE_MODELS, resolve_model
from pipeline.sources.ferplus import CLASS_NAMES_8, SOURCE, VOTES_FILE
from tests.export.test_release import _accuracy, _metadata
from tests.helpers import REPO_ROOT

RELEASE = REPO_ROOT / "release"
FERPLUS_PRIVATE_TEST = 3153  # Microsoft's majority protocol, 8 classes


@pytest.fixture(scope="module")
def ferplus_private_test(shared_data, tmp_path_factory):
    raw = tmp_path_factory.mktemp("ferplus_raw")
    for path in (shared_data / "fer2013.csv.gz", shared_data / "ferplus" / VOTES_FILE):
        (raw / path.name).symlink_to(path)
    data = SOURCE.read(SOURCE.files(raw), {"ferplus_classes": 8, "ferplus_target": "majority"}).data
    return data.subset("test")


def test_files_committed_small_and_selectable():
    for name in ("release-ferplus", "release-ferplus-int8"):
        path = resolve_model(name)
        assert path == RELEASE_MODELS[name] and path.stat().st_size <= 25 * 2**20
    assert (RELEASE / "ferplus.md").is_file()
    meta = _metadata(RELEASE_MODELS["release-ferplus"])
    assert meta["class_names"] == list(CLASS_NAMES_8) and "contempt" in meta["class_names"]
    assert meta["trained_on_synthetic_data"] is False and meta["x.data_source"] == "ferplus"


@pytest.mark.parametrize("name", ["release-ferplus", "release-ferplus-int8"])
def test_private_test_accuracy_from_the_raw_csvs(name, ferplus_private_test):
    faces, labels = ferplus_private_test
    assert len(labels) == FERPLUS_PRIVATE_TEST
    accuracy = _accuracy(RELEASE_MODELS[name], faces, labels)
    record = json.loads((RELEASE / "ferplus.json").read_text())
    claimed = record["scores"]["fp32" if name == "release-ferplus" else "int8"]["test_acc"]
    assert accuracy == pytest.approx(claimed, abs=2 / FERPLUS_PRIVATE_TEST)  # the card's number, within 2 images
    assert accuracy >= 0.75  # far above FER2013's 7-class release: FER+'s majority labels are cleaner
    assert f"{100 * record['scores']['fp32']['test_acc']:.2f} %" in (RELEASE / "ferplus.md").read_text()


@pytest.mark.long
def test_release_labels_benchmark_matches_both_cards(shared_data, tmp_path):
    """benchmarks/release_labels.py, which the choice of the default cites (docs/analyze.md, "Which release"): each
    release on its own label set gives its card's number, and each does better on its own labels than the other release does."""
    import subprocess
    import sys

    out = tmp_path / "labels.json"
    data = [] if shared_data.resolve() == (REPO_ROOT.parent / "shared" / "data").resolve() else ["--data", str(shared_data)]
    proc = subprocess.run([sys.executable, "benchmarks/release_labels.py", *data, "--json", str(out)],  # as docs/analyze.md shows
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    table = json.loads(out.read_text())
    for name, labels, card in (("release", "FER2013 labels", "fer2013"), ("release-ferplus", "FER+ majority labels", "ferplus")):
        claimed = json.loads((RELEASE / f"{card}.json").read_text())["scores"]["fp32"]["test_acc"]
        assert table[name][labels]["accuracy"] == pytest.approx(claimed, abs=1e-6)
    assert table["release-ferplus"]["FER+ majority labels"]["accuracy"] > table["release"]["FER+ majority labels"]["accuracy"]
    assert table["release"]["FER2013 labels"]["accuracy"] > table["release-ferplus"]["FER2013 labels"]["accuracy"]
    assert table["release"]["FER+ majority labels"]["n_classes_it_has"] == FERPLUS_PRIVATE_TEST - 16  # no contempt
