"""A generator of FER-like 48x48 grayscale faces, the default dataset when no real one is at hand.

Each image is a drawn face whose emotion is carried only by facial geometry (mouth curve and
opening, brow angle and height, eye opening); everything else (face shape, hair, skin and
background tone, pose, contrast, noise, occlusion) is nuisance. Each face shows its class at a
random intensity, so weak expressions drift towards neutral and the task is learnable but not
trivial. Class frequencies follow FER2013's training split (disgust rare). Fully vectorised
numpy and deterministic from one seed.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from pipeline.core.atomic import atomic_path
from pipeline.core.constants import SPLITS
from pipeline.core.specs import Int, Section
from pipeline.sources import fer2013
from pipeline.sources.common import read_csv_table
from pipeline.sources.registry import Source

CLASS_NAMES = fer2013.CLASS_NAMES
FILE_NAME = "synthetic.csv.gz"

IMAGE_SIZE = 48

# FER2013 train class counts (angry..neutral): the imbalance the generator reproduces.
FER2013_TRAIN_COUNTS: tuple[int, ...] = (3995, 436, 4097, 7215, 4830, 3171, 4965)

# Usage value written for each split, as in the Kaggle CSV.
USAGE_OF_SPLIT: dict[str, str] = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}

# Expression geometry per class, in CLASS_NAMES order. Columns:
# mouth_curve (+ = corners up), mouth_open, mouth_width, brow_slope (+ = inner ends down),
# brow_raise (+ = higher), eye_open (1 = neutral).
_GEOMETRY_COLUMNS = ("mouth_curve", "mouth_open", "mouth_width", "brow_slope", "brow_raise", "eye_open")
CLASS_GEOMETRY: np.ndarray = np.array([
    # curve  open   width  slope  raise  eye
    [-0.15, 0.02, 0.85, 0.45, -0.06, 0.70],   # angry: brows pulled down and in, narrowed eyes
    [-0.35, 0.06, 0.80, 0.25, -0.08, 0.50],   # disgust: strong frown, squint, lowered brows
    [-0.10, 0.12, 1.10, -0.35, 0.10, 1.40],   # fear: wide eyes, brows up and in, stretched mouth
    [0.55, 0.08, 1.15, 0.00, 0.02, 0.75],     # happy: smile, slightly squinted eyes
    [-0.45, 0.00, 0.90, -0.40, 0.00, 0.80],   # sad: frown, inner brows raised
    [0.00, 0.30, 0.70, -0.05, 0.22, 1.55],    # surprise: open round mouth, raised brows, wide eyes
    [0.00, 0.00, 0.95, 0.00, 0.00, 1.00],     # neutral
], dtype=np.float32)
NEUTRAL = CLASS_NAMES.index("neutral")


def class_counts_for(n: int, proportions: tuple[int, ...] = FER2013_TRAIN_COUNTS) -> np.ndarray:
    """Split ``n`` images over the classes in FER2013's train proportions (largest remainder)."""
    weights = np.asarray(proportions, dtype=np.float64)
    exact = n * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


def _smooth_inside(distance: np.ndarray, edge: float = 0.04) -> np.ndarray:
    """Soft mask, 1 where ``distance`` < 0 and fading to 0 over ``edge`` (anti-aliased drawing)."""
    return np.clip(0.5 - distance / edge, 0.0, 1.0)


def _render(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one face per label; returns uint8 (N, 48, 48)."""
    n = len(labels)
    f32 = np.float32

    def uniform(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, size=(n, 1, 1)).astype(f32)

    def normal(scale: float) -> np.ndarray:
        return rng.normal(0.0, scale, size=(n, 1, 1)).astype(f32)

    # Expression: neutral + intensity * (class - neutral), plus per-face jitter.
    intensity = uniform(0.9, 1.3)
    geometry = CLASS_GEOMETRY[NEUTRAL] + intensity[:, 0] * (CLASS_GEOMETRY[labels] - CLASS_GEOMETRY[NEUTRAL])
    geometry = geometry + rng.normal(0.0, 1.0, size=geometry.shape).astype(f32) * np.array(
        [0.05, 0.015, 0.05, 0.05, 0.02, 0.06], dtype=f32)
    curve, mouth_open, mouth_width, brow_slope, brow_raise, eye_open = (
        geometry[:, i, None, None] for i in range(len(_GEOMETRY_COLUMNS)))
    mouth_open = np.clip(mouth_open, 0.0, None)
    eye_open = np.clip(eye_open, 0.25, None)

    # Pose: rotation, scale and shift, applied by mapping pixel coordinates into face coordinates.
    angle = normal(0.08)
    scale = uniform(0.9, 1.1)
    shift_x, shift_y = normal(0.04), normal(0.04)
    coords = (np.arange(IMAGE_SIZE, dtype=f32) + 0.5) / IMAGE_SIZE * 2.0 - 1.0
    x, y = coords[None, None, :], coords[None, :, None]
    cos, sin = np.cos(angle), np.sin(angle)
    u = (cos * (x - shift_x) + sin * (y - shift_y)) / scale
    v = (-sin * (x - shift_x) + cos * (y - shift_y)) / scale

    # Identity: face shape, tones, feature positions.
    face_a, face_b = uniform(0.58, 0.76), uniform(0.78, 0.95)
    skin, background = uniform(110, 210), uniform(15, 240)
    gradient = normal(25.0)
    eye_x, eye_y = uniform(0.24, 0.34), uniform(-0.22, -0.10)
    eye_w = uniform(0.10, 0.14)
    mouth_y = uniform(0.40, 0.52)
    feature_dark = uniform(0.15, 0.35)  # how dark eyes/brows/mouth are relative to the skin

    image = background + gradient * (x + y) * 0.5 + np.zeros_like(u)
    face = _smooth_inside(np.sqrt((u / face_a) ** 2 + ((v - 0.05) / face_b) ** 2) - 1.0, 0.08)
    image = image * (1 - face) + skin * face
    has_hair = (rng.random((n, 1, 1)) < 0.7).astype(f32)
    hair_line = uniform(-0.75, -0.5)
    hair = has_hair * face * _smooth_inside(v - hair_line + 0.08 * u ** 2, 0.08)
    image = image * (1 - hair) + uniform(10, 90) * hair

    dark = skin * feature_dark
    abs_u = np.abs(u)

    # Eyes: ellipses whose height is the eye opening.
    eye_h = 0.065 * eye_open
    eyes = _smooth_inside(np.sqrt(((abs_u - eye_x) / eye_w) ** 2 + ((v - eye_y) / eye_h) ** 2) - 1.0, 0.25)
    image = image * (1 - eyes) + dark * eyes

    # Brows: short bars above the eyes, tilted (slope) and lifted (raise).
    brow_half = uniform(0.12, 0.16)
    brow_y = eye_y - 0.16 - brow_raise
    brow_center = brow_y + brow_slope * 0.5 * (eye_x - abs_u)
    brows = (_smooth_inside(np.abs(v - brow_center) - 0.035, 0.04)
             * _smooth_inside(np.abs(abs_u - eye_x) - brow_half, 0.04))
    image = image * (1 - brows) + dark * brows

    # Nose: two nostril dots.
    nostrils = _smooth_inside(np.sqrt((abs_u - 0.07) ** 2 + (v - (mouth_y - 0.2)) ** 2) - 0.035, 0.04)
    image = image * (1 - 0.6 * nostrils) + dark * 0.6 * nostrils

    # Mouth: a curved centre line (corners up for a smile) with an opening around it.
    half_width = 0.28 * mouth_width
    t = np.clip(u / half_width, -1.0, 1.0)
    centre = mouth_y - 0.2 * curve * (t ** 2 - 0.4)
    half_open = 0.5 * mouth_open * np.sqrt(np.clip(1 - t ** 2, 0.0, 1.0))
    inside_width = _smooth_inside(abs_u - half_width, 0.05)
    lips = _smooth_inside(np.abs(np.abs(v - centre) - half_open) - 0.03, 0.04) * inside_width
    cavity = _smooth_inside(np.abs(v - centre) - half_open, 0.03) * inside_width
    image = image * (1 - cavity) + dark * 0.5 * cavity
    image = image * (1 - lips) + dark * lips

    # Occlusion: a random flat rectangle (hand, glasses, watermark) on about a fifth of faces.
    occluded = rng.random((n, 1, 1)) < 0.2
    x0, y0 = uniform(-1.0, 0.6), uniform(-1.0, 0.6)
    w, h = uniform(0.2, 0.6), uniform(0.2, 0.6)
    box = occluded & (x > x0) & (x < x0 + w) & (y > y0) & (y < y0 + h)
    image = np.where(box, uniform(0, 255), image)

    # Camera: light blur, contrast/brightness, sensor noise.
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)), mode="edge")
    image = sum(padded[:, dy:dy + IMAGE_SIZE, dx:dx + IMAGE_SIZE] for dy in range(3) for dx in range(3)) / 9.0
    mean = image.mean(axis=(1, 2), keepdims=True)
    image = (image - mean) * uniform(0.6, 1.3) + mean + normal(15.0)
    image = image + rng.normal(0.0, 1.0, size=image.shape).astype(f32) * uniform(2.0, 10.0)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def generate_split(n: int, seed: int, split_index: int, chunk_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images and labels of one split, in FER2013 train class proportions, shuffled.

    Each split and chunk has its own seeded stream, so a split's content does not depend on
    the sizes of the other splits.
    """
    label_rng = np.random.default_rng([seed, split_index])
    labels = np.repeat(np.arange(len(CLASS_NAMES)), class_counts_for(n))
    label_rng.shuffle(labels)
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for chunk, start in enumerate(range(0, n, chunk_size)):
        rng = np.random.default_rng([seed, split_index, chunk + 1])
        images[start:start + chunk_size] = _render(labels[start:start + chunk_size], rng)
    return images, labels


def generate(sizes: dict[str, int], seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (uint8 images (N,48,48), int64 labels)} for the splits train/val/test."""
    return {split: generate_split(int(sizes[split]), seed, index) for index, split in enumerate(SPLITS)}


def _csv_lines(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> Iterator[str]:
    tokens = np.array([str(i) for i in range(256)])
    yield "emotion,pixels,Usage\n"
    for split, (images, labels) in splits.items():
        usage = USAGE_OF_SPLIT[split]
        flat = images.reshape(len(images), -1)
        for label, row in zip(labels, flat):
            yield f"{int(label)},{' '.join(tokens[row])},{usage}\n"


def write_fer2013_csv(path: str | os.PathLike, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write splits in the Kaggle FER2013 schema (emotion,pixels,Usage); gzip when the name ends .gz.

    The gzip header carries no time stamp, so the same data gives the same bytes.
    """
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw:
            if str(path).endswith(".gz"):
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1) as gz:
                    gz.write("".join(_csv_lines(splits)).encode("ascii"))
            else:
                raw.write("".join(_csv_lines(splits)).encode("ascii"))


def _files(raw_dir: Path) -> list[Path]:
    path = Path(raw_dir) / FILE_NAME
    if not path.exists():
        raise FileNotFoundError(f"synthetic data not found: {path} (run `dvc repro generate`)")
    return [path]


SOURCE = Source(name="synthetic", description="generated FER-like faces in FER2013's CSV schema (default)",
                class_names=CLASS_NAMES, files=_files,
                check=lambda files, options: fer2013.check_table(read_csv_table(files[0]), files[0]),
                read=lambda files, options: fer2013.read_table(files[0], "synthetic"),
                paper_dataset="FER2013", real=False,
                section=Section(keys={"seed": Int(min=0), "train": Int(min=2), "val": Int(min=1), "test": Int(min=1)}))
