"""One analysis: sampled instants -> faces -> tracks -> batched probabilities -> one table.

The per-instant Python work is what cannot be batched (detection and tracking, which
pipeline.analyze.follow keeps to a few cascade runs a second); frames are decoded in one thread and
crops classified in batches of ``Settings.batch_size`` in another, both overlapping detection, and
everything after is column arithmetic.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline.analyze.batches import BatchClassifier
from pipeline.analyze.detect import FaceDetector, crop_faces
from pipeline.analyze.follow import FaceFollower, Found
from pipeline.analyze.settings import Settings
from pipeline.analyze.smooth import hysteresis_labels, smooth_probabilities, valence
from pipeline.analyze.sources import ImageSkip, Sample, VideoSampler, iterate_images, prefetch
from pipeline.analyze.track import IoUTracker, participant_tracks
from pipeline.export.classifier import OnnxClassifier

log = logging.getLogger(__name__)

THUMB = 48  # face thumbnails kept per detection for moments.csv: FER2013's own resolution


@dataclass
class Analysis:
    """Everything the outputs are made of."""

    source: Path
    kind: str  # "video" | "images"
    class_names: tuple[str, ...]
    frames: pd.DataFrame  # one row per sampled instant (per face with --all-faces)
    thumbs: np.ndarray  # (rows, THUMB, THUMB) uint8, zeros where no face
    n_instants: int
    duration_s: float | None
    video: dict = field(default_factory=dict)
    skipped: list[dict] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def prob_columns(class_names: Iterable[str], prefix: str = "p_") -> list[str]:
    return [f"{prefix}{c}" for c in class_names]


def _detect_all(samples: Iterable[Sample | ImageSkip], detector: FaceDetector, classifier: OnnxClassifier,
                settings: Settings, tracker: IoUTracker | None, total: int | None, desc: str, progress: bool):
    """Detect, track and classify every instant; returns (instants, detections, probs, thumbs, skipped, timings)."""
    instants, dets, skipped = [], [], []
    thumbs: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    clock = {"decode_wait_s": 0.0, "crop_s": 0.0}
    size = classifier.input_size
    rgb = classifier.image_mode == "rgb"  # a model trained on RGB data gets colour crops (R, G, B)
    model = BatchClassifier(classifier)

    def flush() -> None:
        if pending:
            model.submit(np.concatenate(pending))
            pending.clear()

    def prepared() -> Iterator[tuple[int, np.ndarray, tuple[Sample, np.ndarray, np.ndarray]]]:
        """(index, grey, (sample, image, grey)) with --roi applied; unreadable images recorded as skipped."""
        it = iter(samples)
        while True:
            started = time.perf_counter()
            item = next(it, None)
            clock["decode_wait_s"] += time.perf_counter() - started
            if item is None:
                return
            if isinstance(item, ImageSkip):
                skipped.append({"file": str(item.path), "reason": item.reason})
                log.warning("skipping %s: %s", item.path, item.reason)
                continue
            started = time.perf_counter()
            image, gray = item.image, item.gray
            if settings.roi is not None:
                x, y, w, h = settings.roi
                if x < 0 or y < 0 or x + w > image.shape[1] or y + h > image.shape[0]:
                    raise ValueError(f"{item.source}: --roi {settings.roi} lies outside the {image.shape[1]}x{image.shape[0]} frame")
                image = image[y:y + h, x:x + w]
                gray = None if gray is None else gray[y:y + h, x:x + w]
            if gray is None:
                gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
            clock["crop_s"] += time.perf_counter() - started
            yield item.index, gray, (item, image, gray)

    if tracker is not None:
        follower = FaceFollower(detector, tracker, full_every=max(1, int(round(settings.full_scan_s * settings.rate_hz))),
                                cascade_every=settings.cascade_every, all_faces=settings.all_faces,
                                gate=settings.empty_scan_gate)
        found = follower.run(prepared())
    else:
        follower = None
        found = ((item, _still_faces(detector, gray)) for _, gray, item in prepared())

    n_pending = 0
    bar = tqdm(total=total, desc=desc, unit="instant", disable=not progress, leave=False)
    started_all = time.perf_counter()
    try:
        for (item, image, gray), faces in found:
            started = time.perf_counter()
            boxes, scores, ids = faces.boxes, faces.scores, faces.ids
            instants.append((item.index, item.t_sec, item.frame, item.frame_t_sec, item.source))
            if len(boxes):
                boxes_out = boxes + np.array([settings.roi[0], settings.roi[1], 0, 0], np.int32) if settings.roi else boxes
                for j in range(len(boxes)):
                    dets.append((item.index, ids[j], *boxes_out[j].tolist(), float(scores[j])))
                colour = (cv2.cvtColor(image, cv2.COLOR_BGR2RGB if image.ndim == 3 else cv2.COLOR_GRAY2RGB) if rgb
                          else gray)
                crops = crop_faces(colour, boxes, size)
                pending.append(crops)
                thumbs.append(crops if size == THUMB and not rgb else crop_faces(gray, boxes, THUMB))
                n_pending += len(boxes)
            clock["crop_s"] += time.perf_counter() - started
            # in the last batch's worth of instants, smaller batches: the model's tail after the last instant
            # shrinks (results do not depend on how crops are batched)
            last_stretch = total is not None and len(instants) > total - settings.batch_size
            if n_pending >= (max(1, settings.batch_size // 4) if last_stretch else settings.batch_size):
                flush()
                n_pending = 0
            bar.update(1)
        flush()
    except BaseException:
        model.close()
        raise
    finally:
        bar.close()
    busy = time.perf_counter() - started_all
    probs_arr = model.results()
    timings = {"detect_track_s": busy - sum(clock.values()), **clock, "inference_s": model.inference_s,
               "inference_wait_s": model.wait_s}
    if follower is not None:
        timings.update(cascade_runs=follower.cascade_runs, cascade_memo_hits=follower.memo_hits,
                       template_matched=follower.matched,
                       empty_scans_skipped=follower.skipped_scans)
    thumbs_arr = np.concatenate(thumbs) if thumbs else np.zeros((0, THUMB, THUMB), np.uint8)
    return instants, dets, probs_arr, thumbs_arr, skipped, timings


def _still_faces(detector: FaceDetector, gray: np.ndarray) -> Found:
    """Still images: a whole-frame scan, faces numbered by size, largest first."""
    boxes, scores = detector(gray)
    order = np.argsort(-(boxes[:, 2] * boxes[:, 3]), kind="stable")
    return Found(boxes[order], scores[order], list(range(1, len(boxes) + 1)))


def _table(instants, dets, probs, thumbs, class_names, settings: Settings, video: bool):
    """Join instants with the kept detections: one row per instant, per face with --all-faces."""
    inst = pd.DataFrame(instants, columns=["instant", "t_sec", "frame", "frame_t_sec", "source"])
    det = pd.DataFrame(dets, columns=["instant", "face_id", "x", "y", "w", "h", "det_score"])
    det[prob_columns(class_names)] = probs
    det["_thumb"] = np.arange(len(det))
    if not settings.all_faces and len(det):
        keep = participant_tracks(det["instant"].to_numpy(), det["face_id"].to_numpy()) if video else {1}
        det = det[det["face_id"].isin(keep)]
        det = det.drop_duplicates("instant")  # cannot happen for tracks; guards still images
    frames = inst.merge(det, on="instant", how="left", sort=False)
    frames["face_ok"] = frames["face_id"].notna()
    for col in ("face_id", "x", "y", "w", "h"):
        frames[col] = frames[col].astype("Int64")
    thumb_idx = frames["_thumb"].to_numpy()
    out_thumbs = np.zeros((len(frames), THUMB, THUMB), np.uint8)
    ok = ~np.isnan(thumb_idx)
    if ok.any():
        out_thumbs[ok] = thumbs[thumb_idx[ok].astype(int)]
    return frames.drop(columns="_thumb"), out_thumbs


def _smooth(frames: pd.DataFrame, class_names, settings: Settings) -> pd.DataFrame:
    """Smoothed probabilities, hysteresis top label and valence, per face (the participant is one series)."""
    raw_cols, s_cols = prob_columns(class_names), prob_columns(class_names, "s_")
    smoothed = np.full((len(frames), len(class_names)), np.nan, np.float32)
    labels = np.full(len(frames), -1, np.int64)
    if settings.all_faces:
        groups = [np.flatnonzero((frames["face_id"] == fid).fillna(False).to_numpy()) for fid in frames["face_id"].dropna().unique()]
    else:
        groups = [np.arange(len(frames))]
    raw = frames[raw_cols].to_numpy(np.float32)
    for rows in groups:
        smoothed[rows] = smooth_probabilities(raw[rows], settings.smooth_samples)
        labels[rows] = hysteresis_labels(smoothed[rows], settings.hysteresis)
    frames[s_cols] = smoothed
    names = np.array(list(class_names) + [""], dtype=object)
    frames["top_raw"] = names[np.where(np.isnan(raw).any(axis=1), -1, np.nan_to_num(raw, nan=-1).argmax(axis=1))]
    frames["top_label"] = names[labels]
    frames["top_prob"] = np.where(labels >= 0, smoothed[np.arange(len(frames)), np.maximum(labels, 0)], np.nan)
    frames["valence"] = valence(smoothed, tuple(class_names))
    frames["_label"] = labels
    return frames


def analyze(source: Path, kind: str, files: list[Path], classifier: OnnxClassifier, settings: Settings,
            progress: bool = True) -> Analysis:
    """Run the whole analysis of one video, or of a set of still images, and time it."""
    started = time.perf_counter()
    detector = FaceDetector(settings.detect_width, settings.min_face_frac)
    class_names = tuple(classifier.meta.class_names)
    if kind == "video":
        sampler = VideoSampler(files[0], settings.rate_hz, gray=True,
                               luma=settings.luma and classifier.image_mode != "rgb")
        info = sampler.info
        total = int(info.frame_count / info.fps * settings.rate_hz) + 1 if info.fps > 0 and info.frame_count > 0 else None
        stream = prefetch(iter(sampler))
        tracker = IoUTracker(settings.iou_threshold, settings.max_missed)
    else:
        sampler, info, total = None, None, len(files)
        stream, tracker = iterate_images(files), None
    try:
        instants, dets, probs, thumbs, skipped, timings = _detect_all(stream, detector, classifier, settings, tracker,
                                                                       total, source.name, progress)
    finally:
        if hasattr(stream, "close"):
            stream.close()  # stops the decoding thread now, not at interpreter exit
    if not instants:
        what = "no readable images" if kind == "images" else "no sampled instants"
        raise ValueError(f"{source}: {what}" + (f" ({len(skipped)} skipped)" if skipped else ""))
    frames, thumb_rows = _table(instants, dets, probs, thumbs, class_names, settings, video=kind == "video")
    frames = _smooth(frames, class_names, settings)
    if sampler is not None:
        timings["decode_s"] = sampler.decode_s  # in the decoding thread, overlapping the rest
    timings["analysis_s"] = time.perf_counter() - started
    analysis = Analysis(source=source, kind=kind, class_names=class_names, frames=frames, thumbs=thumb_rows,
                        n_instants=len(instants), duration_s=sampler.duration_s if sampler else None,
                        skipped=skipped, timings=timings)
    if sampler is not None:
        analysis.video = {"fps": info.fps, "frame_count": sampler.frames_decoded, "width": info.width,
                          "height": info.height, "timestamp_fallbacks": sampler.timestamp_fallbacks,
                          "gray_from": sampler.gray_from}
    return analysis
