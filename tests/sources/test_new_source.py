"""A new dataset is one module: a copy of pipeline/ plus one file in pipeline/sources/, nothing else edited, and
the params check, the loader, evaluate-folder's alias table and the report's Table III all know it."""

from __future__ import annotations

import filecmp
import json
import shutil
import sys

import yaml

from tests.helpers import REPO_ROOT, run

# A RAF-DB-like dataset with an eighth class: one text line per image, "<class> <split>".
TOY_SOURCE = '''
"""Toy: a text file of "<class> <split>" lines; each image is flat grey, its level set by data.toy_level."""

from pathlib import Path

import numpy as np

from pipeline.core.constants import SPLIT_CODE
from pipeline.core.specs import Int
from pipeline.dataset.prepared import PreparedData
from pipeline.sources.common import LoadedDataset
from pipeline.sources.fer2013 import CLASS_NAMES as FER2013_CLASSES
from pipeline.sources.registry import Source

CLASS_NAMES = (*FER2013_CLASSES, "pain")


def _read(files, options):
    rows = [line.split() for line in files[0].read_text().splitlines()]
    labels = np.array([CLASS_NAMES.index(c) for c, _ in rows], np.int64)
    images = np.full((len(rows), 8, 8), options["toy_level"], np.uint8)
    split = np.array([SPLIT_CODE[s] for _, s in rows], np.int8)
    return LoadedDataset(PreparedData(images, labels, split, "toy", CLASS_NAMES), np.arange(1, len(rows) + 1),
                         (str(files[0]),))


SOURCE = Source(name="toy", description="toy text file", class_names=CLASS_NAMES,
                files=lambda raw_dir: [Path(raw_dir) / "toy.txt"], check=lambda files, options: [], read=_read,
                paper_dataset="RAF-DB", real=True, options={"toy_level": Int(min=1, max=255, optional=True, default=1)},
                aliases={"hurt": "pain", "glad": "happy"}, paper_splits={"train": ("train", "val"), "test": ("test",)})
'''

# Run in the copy, whose pipeline/ is first on sys.path (the working directory).
PROBE = '''
import copy, json, yaml
import pipeline
from pipeline.core.specs import ParamsError
from pipeline.crosseval import canonical_class
from pipeline.params.load import check_params, load_params
from pipeline.reporting.model import ReportInputs
from pipeline.reporting.tables.table3_class_counts import table_iii
from pipeline.sources.loading import load_source

out = {"package": pipeline.__file__}
params = load_params("params.yaml")
out["level"] = params.data.toy_level
raw = yaml.safe_load(open("params.yaml"))
for key, value in (("toy_level", 0), ("toy_levle", 2)):
    bad = copy.deepcopy(raw)
    bad["data"][key] = value
    try:
        check_params(bad)
    except ParamsError as exc:
        out[key] = str(exc)
loaded = load_source(params.data, "data/raw")
out["classes"] = list(loaded.data.class_names)
out["labels"] = loaded.data.labels.tolist()
out["pixels"] = sorted(set(loaded.data.images.ravel().tolist()))
out["aliases"] = [canonical_class(n) for n in ("Hurt", "03_glad", "pain", "anger")]
counts = {"train": {"happy": 3, "pain": 1}, "val": {"happy": 2}, "test": {"happy": 4}}
inputs = ReportInputs(data_source="toy", models={}, distill_runs={}, baseline_students=[],
                      validation={"paper_dataset": "RAF-DB", "real_data": True, "class_counts": counts})
frame = table_iii(inputs).frame
ours = frame[(frame["dataset"] == "RAF-DB") & (frame["class"] == "happy")].set_index("split")["ours"]
out["table3_happy"] = ours.to_dict()
print(json.dumps(out))
'''


def test_a_new_source_is_one_file(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "pipeline", project / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "pipeline" / "sources" / "toy.py").write_text(TOY_SOURCE)
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["data"].update(source="toy", toy_level=7)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (project / "data" / "raw").mkdir(parents=True)
    (project / "data" / "raw" / "toy.txt").write_text("pain train\nhappy train\nsad val\nhappy test\n")

    compared = filecmp.dircmp(REPO_ROOT / "pipeline" / "sources", project / "pipeline" / "sources",
                              ignore=["__pycache__"])
    assert compared.right_only == ["toy.py"] and not compared.diff_files  # nothing else edited

    found = json.loads(run([sys.executable, "-c", PROBE], cwd=project).stdout.splitlines()[-1])
    assert found["package"].startswith(str(project))
    assert found["level"] == 7  # params: its option is a schema key of the data section
    assert "data.toy_level" in found["toy_level"]  # ... with its rule
    assert "unknown key 'toy_levle'" in found["toy_levle"] and "toy_level" in found["toy_levle"]
    assert found["classes"][-1] == "pain" and found["labels"] == [7, 3, 4, 3] and found["pixels"] == [7]  # loader
    assert found["aliases"] == ["pain", "happy", "pain", "angry"]  # evaluate-folder's alias table
    assert found["table3_happy"] == {"train": 5.0, "test": 4.0}  # RAF-DB's Training = its train + val, as it says
