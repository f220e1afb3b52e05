"""A copy of the recording that a browser plays, for the report, when the original will not play.

Browsers play H.264 or AV1 in MP4 and VP8, VP9 or AV1 in WebM; screen and webcam recorders often
write other codecs (MPEG-4 Part 2, MJPEG, HEVC) or containers (AVI, MKV). The copy is VP8 WebM,
written by OpenCV's own FFmpeg (the encoder ships in the ``opencv-python-headless`` wheel, nothing
to install), scaled down and at a capped frame rate: it is there to re-watch a moment, so it is
small and quick to write. OpenCV carries no audio: the copy is silent and the report says so.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import cv2

from pipeline.analyze.sources import open_video

# (container suffixes, codec fourccs as OpenCV reports them, lower case) that Chromium, Firefox and Safari play
BROWSER_FORMATS = (({".mp4", ".m4v", ".mov"}, {"avc1", "avc3", "h264", "x264", "av01"}),
                   ({".webm"}, {"vp80", "vp90", "av01"}))
COPY_NAME = "recording.webm"
COPY_MAX_WIDTH = 640
COPY_MAX_FPS = 15.0


def fourcc(path: str | os.PathLike) -> str:
    """The video codec's fourcc as OpenCV reads it ('' when the file does not open)."""
    cap = cv2.VideoCapture(str(path))
    try:
        code = int(cap.get(cv2.CAP_PROP_FOURCC)) if cap.isOpened() else 0
    finally:
        cap.release()
    return code.to_bytes(4, "little").decode("latin-1").strip("\x00 ") if code > 0 else ""


def browser_playable(path: str | os.PathLike) -> bool:
    """Whether browsers play this file as it is: a container and codec pair of :data:`BROWSER_FORMATS`."""
    suffix = Path(path).suffix.lower()
    codec = fourcc(path).lower()
    return any(suffix in containers and codec in codecs for containers, codecs in BROWSER_FORMATS)


def write_playable_copy(src: str | os.PathLike, dst: str | os.PathLike, max_width: int = COPY_MAX_WIDTH,
                        max_fps: float = COPY_MAX_FPS) -> dict:
    """Write ``src`` as VP8 WebM to ``dst`` (atomically), at most ``max_width`` px wide and ``max_fps``.

    Output frame k shows the first source frame whose timestamp is at or after k / fps, the rule the
    analysis samples by, so a time in the report is the same moment in the copy. Returns what was written.
    """
    started = time.perf_counter()
    src, dst = Path(src), Path(dst)
    cap, info = open_video(src)
    fps = min(info.fps, max_fps) if info.fps > 0 else max_fps
    scale = min(1.0, max_width / info.width) if info.width else 1.0
    size = (max(2, int(info.width * scale) // 2 * 2), max(2, int(info.height * scale) // 2 * 2))
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.partial{dst.suffix}")  # the suffix tells FFmpeg the container
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"VP80"), fps, size)
    nominal = 1.0 / info.fps if info.fps > 0 else 1.0 / 30.0
    written, prev_ts, image = 0, None, None
    try:
        if not writer.isOpened():
            raise RuntimeError(f"{dst}: OpenCV cannot write VP8 WebM here")
        while cap.grab():
            ts = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if prev_ts is not None and (not math.isfinite(ts) or ts <= prev_ts):
                ts = prev_ts + nominal  # no usable timestamps: fall back to the nominal rate
            elif prev_ts is None and (not math.isfinite(ts) or ts < 0):
                ts = 0.0
            prev_ts = ts
            if written / fps > ts + 1e-6:
                continue  # no output frame needs this one: grabbed, never converted
            ok, image = cap.retrieve()
            if not ok or image is None:
                raise ValueError(f"{src}: a frame at {ts:.3f} s cannot be decoded (corrupt video)")
            frame = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if image.shape[1::-1] != size else image
            while written / fps <= ts + 1e-6:
                writer.write(frame)
                written += 1
        if prev_ts is None:
            raise ValueError(f"{src}: no decodable frames (corrupt, truncated or an unsupported codec)")
        # The last frame lasts until the recording ends.
        end = prev_ts + nominal
        while image is not None and written / fps < end - 1e-6:
            writer.write(frame)
            written += 1
        writer.release()
        os.replace(tmp, dst)
    finally:
        cap.release()
        writer.release()
        tmp.unlink(missing_ok=True)
    return {"file": dst.name, "codec": "VP8", "fps": fps, "width": size[0], "height": size[1], "frames": written,
            "duration_s": written / fps, "seconds": round(time.perf_counter() - started, 3), "audio": False}
