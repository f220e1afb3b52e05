"""``--model``: an exported ONNX file, or a run name resolved inside the export folder.

Default: E4, the distilled student B (5.0 M parameters; paper: 70.2 % FER2013, 82.45 % RAF-DB).
Student C (E6) is 4x smaller but loses ~12 points in the paper (58.6 % FER2013), and it buys no
speed here: face detection, not the classifier, dominates the time per instant.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MODEL = "E4"
EXPORT_DIR = Path("models/export")
_REPO_ROOT = Path(__file__).resolve().parents[2]


def export_dirs(models_dir: str | os.PathLike | None) -> list[Path]:
    """Where run names are looked up: --models-dir, else ./models/export, then the checkout's own."""
    if models_dir is not None:
        return [Path(models_dir)]
    return list(dict.fromkeys([EXPORT_DIR, _REPO_ROOT / EXPORT_DIR]))


def candidates(name: str) -> list[str]:
    """File stems a run name may refer to: E1, teacher, baseline_student_a (also 'baseline student_a',
    'baseline:student_a', 'student_a')."""
    key = name.strip().replace(" ", "_").replace(":", "_").replace("/", "_")
    stems = [key, key.upper()]
    if not key.startswith("baseline_"):
        stems.append(f"baseline_{key}")
    return list(dict.fromkeys(stems))


def resolve_model(spec: str | None, models_dir: str | os.PathLike | None = None) -> Path:
    spec = spec or DEFAULT_MODEL
    path = Path(spec)
    if path.suffix.lower() == ".onnx" or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"--model {spec}: file not found")
        return path
    dirs = export_dirs(models_dir)
    for folder in dirs:
        for stem in candidates(spec):
            found = folder / f"{stem}.onnx"
            if found.is_file():
                return found
    available = sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.onnx")})
    hint = (f"available: {', '.join(available)}" if available else
            "no exported models yet: run `uv run dvc repro export` (after training) or pass an .onnx file")
    raise FileNotFoundError(f"--model {spec}: no {'/'.join(candidates(spec))}.onnx in {', '.join(map(str, dirs))}; {hint}")
