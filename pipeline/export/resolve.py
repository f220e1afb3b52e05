"""``--model`` (of ``analyze`` and ``evaluate-folder``): an exported ONNX file, or a run name resolved
inside the export folder.

Default: ``release``, the model committed in release/ (trained on the real FER2013 through
profiles/release.yaml; its card is release/fer2013.md), so ``analyze`` works in a fresh clone
before any ``dvc repro``. ``release-int8`` is its int8-quantized copy. ``release-ferplus`` (and
``release-ferplus-int8``) is the 8-class model trained on FER+'s majority labels (contempt included;
card release/ferplus.md). Run names (E1..E6, teacher,
baseline_student_a, ...) are looked up among the pipeline's exports (models/export).
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]
RELEASE_DIR = _REPO_ROOT / "release"
# Names that mean a committed release file rather than a pipeline export.
RELEASE_MODELS = {"release": RELEASE_DIR / "fer2013.onnx", "release-int8": RELEASE_DIR / "fer2013-int8.onnx",
                  "release-ferplus": RELEASE_DIR / "ferplus.onnx", "release-ferplus-int8": RELEASE_DIR / "ferplus-int8.onnx"}
DEFAULT_MODEL = "release"
EXPORT_DIR = Path("models/export")


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
    if spec in RELEASE_MODELS:
        if not RELEASE_MODELS[spec].is_file():
            raise FileNotFoundError(f"--model {spec}: {RELEASE_MODELS[spec]} is missing from this checkout "
                                    "(README, \"Release model\"); pass an .onnx file or a run name")
        return RELEASE_MODELS[spec]
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
