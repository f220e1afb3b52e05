"""Inputs to sampled instants: fixed-rate sampling of videos by decoder timestamps, and still images.

A video is sampled at t_k = k / rate seconds. Each instant takes the first decoded frame whose
timestamp (``CAP_PROP_POS_MSEC``, i.e. the container's presentation time) is at or after it, so
variable-frame-rate files and any fps give the same instants; frames no instant needs are only
grabbed, never converted. When frames are sparser than instants, one frame serves several.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from pipeline.analyze.capture import open_capture
from pipeline.analyze.luma import luma_table, quiet_retrieve

log = logging.getLogger(__name__)

VIDEO_EXTS = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".ogv", ".flv", ".3gp"})
IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"})


@dataclass
class Sample:
    """One sampled instant: its time (None for still images), the frame that shows it, the pixels."""

    index: int
    t_sec: float | None
    frame: int
    frame_t_sec: float | None
    image: np.ndarray  # BGR uint8 (grey when the sampler decodes luma only)
    source: str
    gray: np.ndarray | None = None  # its grey version, when the sampler was asked for it


@dataclass
class VideoInfo:
    fps: float
    frame_count: int  # the container's estimate; used for the progress bar only
    width: int
    height: int


def classify_input(path: str | os.PathLike) -> tuple[str, list[Path]]:
    """('video' | 'images' | 'videos', files) for a video file, an image, or a folder of either."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_file():
        ext = path.suffix.lower()
        if ext in IMAGE_EXTS:
            return "images", [path]
        return "video", [path]  # unknown extensions are tried as video; a failure names the file
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    videos = [p for p in files if p.suffix.lower() in VIDEO_EXTS]
    images = [p for p in files if p.suffix.lower() in IMAGE_EXTS]
    if videos and images:
        raise ValueError(f"{path}: holds both videos and images; give one kind per folder")
    if videos:
        return "videos", videos
    if images:
        return "images", images
    raise ValueError(f"{path}: no video ({', '.join(sorted(VIDEO_EXTS))}) or image files found")


def open_video(path: Path, threads: int = 0) -> tuple[cv2.VideoCapture, VideoInfo]:
    """An opened capture, or a ValueError naming the file when it is empty, corrupt or unsupported.

    ``threads``: the decoder's threads (:func:`open_capture`). The analysis decodes with one: its own
    thread already runs beside detection."""
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (0 bytes), not a video")
    cap = open_capture(path, threads)
    if not cap.isOpened():
        raise ValueError(f"{path}: cannot be opened as a video (corrupt, truncated or an unsupported codec)")
    info = VideoInfo(fps=float(cap.get(cv2.CAP_PROP_FPS) or 0.0), frame_count=int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
                     width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0))
    return cap, info


class VideoSampler:
    """Iterate a video's sampled instants; ``duration_s`` and ``frames_decoded`` are set when it ends."""

    def __init__(self, path: str | os.PathLike, rate_hz: float, gray: bool = False, luma: bool = False):
        self.path = Path(path)
        self.rate_hz = rate_hz
        self.gray = gray or luma  # also make each used frame grey here: in the decoding thread, off the detector's
        self.cap, self.info = open_video(self.path, threads=1)
        # luma: only grey is needed, so take it from the decoder's Y plane when that matches (pipeline.analyze.luma);
        # samples then carry the grey frame as their image. Decided when iteration starts (in its thread).
        self.luma = luma
        self.table: np.ndarray | None = None
        self.gray_from = "bgr" if self.gray else None
        self.duration_s: float | None = None
        self.frames_decoded = 0
        self.timestamp_fallbacks = 0
        self.decode_s = 0.0  # time in grab(), retrieve() (and the grey conversion), in whichever thread iterates

    def __iter__(self) -> Iterator[Sample]:
        cap, rate = self.cap, self.rate_hz
        nominal = 1.0 / self.info.fps if self.info.fps > 0 else 1.0 / 30.0
        k, idx, ts, prev_ts, last, last_dur = 0, -1, None, None, None, nominal
        eps = 1e-6
        clock = time.perf_counter
        try:
            if self.luma:
                started = clock()
                self.table = luma_table(self.path)
                if self.table is not None and cap.set(cv2.CAP_PROP_CONVERT_RGB, 0):
                    self.gray_from = "luma"
                else:
                    self.table = None
                self.decode_s += clock() - started
            while True:
                started = clock()
                grabbed = cap.grab()
                self.decode_s += clock() - started
                if not grabbed:
                    break
                idx += 1
                stamp = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                if prev_ts is not None and (not math.isfinite(stamp) or stamp <= prev_ts):
                    stamp = prev_ts + nominal  # a container without usable timestamps: fall back to fps
                    self.timestamp_fallbacks += 1
                elif prev_ts is None and (not math.isfinite(stamp) or stamp < 0):
                    stamp = 0.0
                if prev_ts is not None:
                    last_dur = stamp - prev_ts
                ts = stamp
                if k / rate <= ts + eps:
                    started = clock()
                    ok, image = quiet_retrieve(cap) if self.table is not None else cap.retrieve()
                    if not ok or image is None:
                        raise ValueError(f"{self.path}: frame {idx} at {ts:.3f} s cannot be decoded (corrupt video)")
                    if self.table is not None:
                        image = gray = cv2.LUT(image.reshape(image.shape[:2]), self.table)
                    else:
                        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if self.gray and image.ndim == 3 else None
                    self.decode_s += clock() - started
                    last = (idx, ts, image, gray)
                    while k / rate <= ts + eps:
                        yield Sample(k, k / rate, idx, ts, image, self.path.name, gray)
                        k += 1
                prev_ts = ts
            if ts is None:
                raise ValueError(f"{self.path}: no decodable frames (corrupt, truncated or an unsupported codec)")
            self.frames_decoded = idx + 1
            self.duration_s = ts + last_dur
            # Instants after the last frame's timestamp but before its end show that frame.
            while k / rate < self.duration_s - eps and last is not None:
                yield Sample(k, k / rate, last[0], last[1], last[2], self.path.name, last[3])
                k += 1
        finally:
            cap.release()
        if self.timestamp_fallbacks:
            log.warning("%s: %d frames without increasing timestamps; their times come from %.3f fps",
                        self.path, self.timestamp_fallbacks, self.info.fps)


@dataclass
class ImageSkip:
    path: Path
    reason: str


def iterate_images(paths: list[Path]) -> Iterator[Sample | ImageSkip]:
    """Each readable image as a Sample (t_sec None); unreadable ones as ImageSkip, never an exception."""
    kept = 0
    for path in paths:
        try:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        except cv2.error as exc:
            image, why = None, str(exc)
        else:
            why = "not a readable image (corrupt or unsupported format)"
        if image is None:
            yield ImageSkip(path, why)
            continue
        yield Sample(kept, None, kept, None, image, path.name)
        kept += 1


_END = object()


def prefetch(iterator, depth: int = 16):
    """Run ``iterator`` in a thread, ``depth`` items ahead: OpenCV decodes while the caller detects.

    OpenCV releases the GIL while decoding, so on 2 cores decoding and detection overlap.
    Exceptions raised by the iterator are re-raised in the caller.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in iterator:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_END)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True, name="analyze-decode")
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
