"""Grey frames straight from the decoder's luma plane, for models that only look at grey.

Converting each decoded YUV frame to BGR and then to grey was ~40 % of the decoding thread's time.
Grey (0.299 R + 0.587 G + 0.114 B) is the luma Y up to the video's range (limited 16-235 or full)
and rounding, so with ``CAP_PROP_CONVERT_RGB`` off OpenCV's FFmpeg backend hands over the Y plane
and a 256-entry table maps it to the grey that the BGR path gives. The table is learnt per video
from a frame decoded both ways; when the two do not agree (a packed or >8-bit pixel format, a
backend that ignores the switch, a flat frame to learn from), the caller keeps the BGR path.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.analyze.capture import open_capture

PROBE_FRAMES = 50  # frames searched for one with enough grey levels to learn the table from
MIN_LEVELS = 32  # distinct luma values that frame needs
AGREE = 0.995  # share of its pixels whose mapped luma must be within one level of the BGR grey


def quiet_retrieve(cap: cv2.VideoCapture) -> tuple[bool, np.ndarray | None]:
    """retrieve() without OpenCV's warning that it hands over a YUV frame's first plane (4.14 repeats it
    for every frame)."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        return cap.retrieve()
    finally:
        cv2.utils.logging.setLogLevel(level)


def enough_levels(luma: np.ndarray) -> bool:
    """A frame to learn the table from: MIN_LEVELS distinct luma values at least."""
    return int(np.count_nonzero(np.bincount(luma.ravel(), minlength=256))) >= MIN_LEVELS


def fit_table(luma: np.ndarray, gray: np.ndarray) -> np.ndarray | None:
    """The uint8 table t with t[luma] ~= gray: each luma value's most frequent grey, a straight-line
    fit for values the frame lacks; None when the two images do not correspond."""
    if luma.shape != gray.shape or luma.dtype != np.uint8 or not enough_levels(luma):
        return None
    y, g = luma.ravel().astype(np.int64), gray.ravel().astype(np.int64)
    slope, offset = np.polyfit(y[::7], g[::7], 1)  # a seventh of the pixels pin a straight line
    if not 0.9 <= slope <= 1.3:  # full range (1) or limited (255/219) only
        return None
    table = np.clip(np.round(slope * np.arange(256) + offset), 0, 255)
    joint = np.bincount(y * 256 + g, minlength=256 * 256).reshape(256, 256)
    seen = joint.sum(axis=1) > 0
    table[seen] = joint[seen].argmax(axis=1)
    table = table.astype(np.uint8)
    if np.mean(np.abs(table[luma].astype(np.int16) - gray) <= 1) < AGREE:
        return None
    return table


def luma_table(path: str | Path) -> np.ndarray | None:
    """The luma -> grey table of this video, or None when its luma plane cannot stand in for grey."""
    # one decoder thread each: a table is learnt from the first frames, and FFmpeg's frame threads would only
    # add start-up (and with them, one thread or many, the pixels are the same)
    raw, bgr = open_capture(path, threads=1), open_capture(path, threads=1)
    try:
        if not (raw.isOpened() and bgr.isOpened()) or not raw.set(cv2.CAP_PROP_CONVERT_RGB, 0):
            return None
        for _ in range(PROBE_FRAMES):
            if not (raw.grab() and bgr.grab()):
                return None
            ok_raw, luma = quiet_retrieve(raw)
            ok_bgr, colour = bgr.retrieve()
            if not (ok_raw and ok_bgr) or luma is None or colour is None or colour.ndim != 3:
                return None
            luma = luma.reshape(luma.shape[:2]) if luma.ndim == 3 and luma.shape[2] == 1 else luma
            if luma.shape != colour.shape[:2]:
                return None
            if enough_levels(luma):
                return fit_table(luma, cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY))
        return None
    finally:
        raw.release()
        bgr.release()
