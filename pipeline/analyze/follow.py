"""Which sampled instants need the face detector: the cascade at anchors, a template look in between.

The Haar cascade costs ~4 ms around a tracked face and ~8 ms over a whole frame, most of it on the
face itself (its windows pass many of the 25 stages), so running it at every instant was most of
an analysis. While every tracked face was found at the last instant, the cascade now runs only at
anchors (every ``cascade_every`` instants and at each whole-frame scan). When an anchor finds each
tracked face again, overlapping where it was, the instants in between get the boxes interpolated
between the two detections, each confirmed by a template match (~0.05 ms a face). Anything else --
a face lost or gained, one that moved off the line, a failed match -- and those instants are
detected one by one exactly as with the cascade at every instant.

A frame bit-identical to the instant before's (a still screen, a synthetic recording) gets that
one-by-one step too, and a cascade call on the same pixels with the same search is answered from
memory: on such frames the outputs are the reference's own, at a few cascade runs per still scene.
Interpolated boxes are not the reference's (a few pixels off), so where frames move a few smoothed
labels near a hysteresis tie can differ (tests/analyze/test_real_faces.py counts them).
Opt-in (``gate``): with nothing tracked, the whole-frame scan skipped while no 16 px cell of the
scene moved by more than GATE_LEVELS since the last scan that found nobody (approximate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator

import cv2
import numpy as np

from pipeline.analyze.detect import FaceDetector
from pipeline.analyze.track import IoUTracker, iou_matrix

PATCH = 32  # px a face is scaled to for the template match
SEARCH = 4  # px (at PATCH scale) the match may shift the interpolated box, each way
MIN_MATCH = 0.6  # normalised cross-correlation a face patch needs with either anchor's
GATE_CELL = 16  # px cells whose mean grey level tells whether an empty scene changed
GATE_LEVELS = 2.0  # a cell whose mean moved more than this (of 255) means the scene changed


MEMO = 16  # cascade calls remembered: the same grey image searched the same way gives the same faces (on a
# still frame the reference's search around the last box cycles through a few boxes: ~6 for a FER2013 face)


def same_image(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-identical grey images (three rows first: in a moving frame one of them differs at once)."""
    if a is b:
        return True
    if a.shape != b.shape:
        return False
    h = a.shape[0]
    if any(a[r].tobytes() != b[r].tobytes() for r in (h // 2, h // 3, 2 * h // 3)):
        return False
    return bool(np.array_equal(a, b))


def _same_hints(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool((a == b).all())


@dataclass
class Found:
    """One instant's faces: boxes (x, y, w, h) in the grey image's pixels, scores, track ids."""

    boxes: np.ndarray
    scores: np.ndarray
    ids: list[int]


def patch(gray: np.ndarray, box: np.ndarray, margin: int = 0) -> np.ndarray:
    """The box's content at PATCH px a side plus ``margin`` px around it (edges replicated), float32."""
    x, y, w, h = (float(v) for v in box)
    out = PATCH + 2 * margin
    sx, sy = PATCH / w, PATCH / h
    x0, y0, x1, y1 = x - margin / sx, y - margin / sy, x + w + margin / sx, y + h + margin / sy
    H, W = gray.shape[:2]
    cx0, cy0 = max(0, math.floor(x0)), max(0, math.floor(y0))
    cx1, cy1 = min(W, math.ceil(x1)), min(H, math.ceil(y1))
    if cx1 - cx0 < 2 or cy1 - cy0 < 2:
        return np.zeros((out, out), np.float32)
    tw, th = max(1, min(out, round((cx1 - cx0) * sx))), max(1, min(out, round((cy1 - cy0) * sy)))
    img = cv2.resize(gray[cy0:cy1, cx0:cx1], (tw, th), interpolation=cv2.INTER_AREA)
    left, top = min(out - tw, max(0, round((cx0 - x0) * sx))), min(out - th, max(0, round((cy0 - y0) * sy)))
    img = cv2.copyMakeBorder(img, top, out - th - top, left, out - tw - left, cv2.BORDER_REPLICATE)
    return img.astype(np.float32)


def best_match(region: np.ndarray, template: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Highest normalised cross-correlation of the template within the region, and where, relative to
    the region's centre, to a fraction of a pixel (a parabola through the peak and its neighbours)."""
    ncc = cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED)
    _, score, _, (x, y) = cv2.minMaxLoc(ncc)

    def vertex(l: float, c: float, r: float) -> float:
        curve = l - 2 * c + r
        return float(np.clip(0.5 * (l - r) / curve, -0.5, 0.5)) if curve < 0 else 0.0

    h, w = ncc.shape
    fx = vertex(ncc[y, x - 1], ncc[y, x], ncc[y, x + 1]) if 0 < x < w - 1 else 0.0
    fy = vertex(ncc[y - 1, x], ncc[y, x], ncc[y + 1, x]) if 0 < y < h - 1 else 0.0
    return float(score), (x + fx - (w - 1) / 2, y + fy - (h - 1) / 2)


class FaceFollower:
    """Detections and track ids for a video's instants, in order; ``cascade_every`` <= 1 runs the
    cascade at every instant (the reference behaviour). ``cascade_runs`` counts cascade calls."""

    def __init__(self, detector: FaceDetector, tracker: IoUTracker, full_every: int, cascade_every: int,
                 all_faces: bool = False, gate: bool = False):
        self.detector, self.tracker = detector, tracker
        self.gate = gate  # the empty-scene scan gate (approximate: a scene within GATE_LEVELS counts as unchanged)
        self.full_every, self.every = max(1, full_every), cascade_every
        self.all_faces = all_faces
        self.cascade_runs = self.skipped_scans = self.matched = self.memo_hits = 0
        self._halves: list[tuple[np.ndarray, np.ndarray]] = []
        self._memo: list[tuple[np.ndarray, bool, np.ndarray | None, tuple[np.ndarray, np.ndarray]]] = []
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # gray, boxes, scores of the last instant
        self._empty: tuple[int, np.ndarray] | None = None  # index and cells of the last scan that found nobody

    @property
    def fast(self) -> bool:
        return self.every > 1 and not self.all_faces

    def run(self, stream: Iterable[tuple[int, np.ndarray, object]]) -> Iterator[tuple[object, Found]]:
        """(instant index, gray, item) in instant order -> (item, Found) in the same order."""
        pending: list[tuple[int, np.ndarray, object]] = []
        previous: np.ndarray | None = None
        for index, gray, item in stream:
            static = self.fast and previous is not None and same_image(gray, previous)
            previous = gray
            if static and pending:  # the moving run ended at the instant before: it is the block's anchor
                yield from self._block(pending)
                pending = []
            if not pending and (static or not self._all_fresh()):
                yield item, self._one(index, gray)  # a frame like the last: the reference's step, memoised
                continue
            pending.append((index, gray, item))
            if self._is_anchor(index):
                yield from self._block(pending)
                pending = []
        if pending:  # the recording ended between anchors: its last instant is one
            yield from self._block(pending)

    # -- one instant at a time, as with the cascade at every instant -------------------------------
    def _detect(self, index: int, gray: np.ndarray, hints: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        full = self.all_faces or not self.tracker.tracks or index % self.full_every == 0
        if full and not self.tracker.tracks and self.fast and self.gate and self._unchanged(index, gray):
            self.skipped_scans += 1
            return np.zeros((0, 4), np.int32), np.zeros((0,), np.float32)
        hints = None if full else hints
        if self.fast:
            for seen, was_full, was_hints, result in self._memo:
                if was_full == full and _same_hints(was_hints, hints) and same_image(gray, seen):
                    self.memo_hits += 1
                    return result
        self.cascade_runs += 1
        boxes, scores = self.detector(gray, hints)
        if self.fast:
            self._memo = [(gray, full, hints, (boxes, scores))] + self._memo[:MEMO - 1]
        if full and not self.tracker.tracks and self.fast:
            self._empty = (index, self._cells(gray)) if len(boxes) == 0 else None
        return boxes, scores

    def _one(self, index: int, gray: np.ndarray) -> Found:
        boxes, scores = self._detect(index, gray, self.tracker.hints())
        return self._commit(gray, boxes, scores)

    def _commit(self, gray: np.ndarray, boxes: np.ndarray, scores: np.ndarray) -> Found:
        ids = self.tracker.update(boxes)
        self._last = (gray, boxes, scores)
        return Found(boxes, scores, ids)

    # -- an empty scene that did not change needs no new scan -------------------------------------
    def _cells(self, gray: np.ndarray) -> np.ndarray:
        h, w = gray.shape[:2]
        return cv2.resize(gray, (max(1, w // GATE_CELL), max(1, h // GATE_CELL)), interpolation=cv2.INTER_AREA
                          ).astype(np.float32)

    def _unchanged(self, index: int, gray: np.ndarray) -> bool:
        """Nobody was found at the last whole-frame scan, less than a scan period ago, and no cell of the
        frame changed its mean grey level since: the same scan would find nobody again."""
        if self._empty is None or index - self._empty[0] >= self.full_every:
            return False
        cells = self._cells(gray)
        return cells.shape == self._empty[1].shape and float(np.abs(cells - self._empty[1]).max()) <= GATE_LEVELS

    # -- anchors and the instants between them -----------------------------------------------------
    def _all_fresh(self) -> bool:
        """Every live track was detected at the last instant (and there is one): anchors may be spaced."""
        return self.fast and bool(self.tracker.tracks) and all(t.missed == 0 for t in self.tracker.tracks.values())

    def _is_anchor(self, index: int) -> bool:
        return index % self.every == 0 or index % self.full_every == 0

    def _block(self, pending: list[tuple[int, np.ndarray, object]]) -> Iterator[tuple[object, Found]]:
        *between, (a_index, a_gray, anchor) = pending
        assert self._last is not None
        j_gray, j_boxes, j_scores = self._last
        found = a_boxes, a_scores = self._detect(a_index, a_gray, self.tracker.hints())
        # the anchor's detection is the reference's own when it did not depend on where the last instant's
        # faces were: a whole-frame scan, or no instant between
        whole = a_index % self.full_every == 0
        order = self._pairs(j_boxes, a_boxes)
        if order is None or not between:  # a face lost, gained or moved far: every instant on its own
            yield from self._one_by_one(between, a_index, a_gray, anchor, found if whole or not between else None)
            return
        a_boxes, a_scores = a_boxes[order], a_scores[order]
        # faces >= 4 PATCH px are matched in the frame at half size: the same 32 px patches from a quarter of the pixels
        k = 0.5 if min(j_boxes[:, 2:].min(), a_boxes[:, 2:].min()) >= 4 * PATCH else 1.0
        templates = [[patch(self._scaled(j_gray, k), b * k), patch(self._scaled(a_gray, k), b2 * k)]
                     for b, b2 in zip(j_boxes, a_boxes)]
        steps = len(between) + 1
        for n, (_, gray, item) in enumerate(between, start=1):
            w = n / steps
            boxes = self._confirm(self._scaled(gray, k), k, j_boxes, a_boxes, w, templates)
            if boxes is None:  # this instant and the rest of the block, one by one
                yield from self._one_by_one(between[n - 1:], a_index, a_gray, anchor, found if whole else None)
                return
            self.matched += 1
            yield item, self._commit(gray, boxes, ((1 - w) * j_scores + w * a_scores).astype(np.float32))
        yield anchor, self._commit(a_gray, a_boxes, a_scores)

    def _one_by_one(self, between: list[tuple[int, np.ndarray, object]], a_index: int, a_gray: np.ndarray,
                    anchor: object, anchor_found: tuple[np.ndarray, np.ndarray] | None) -> Iterator[tuple[object, Found]]:
        """Instants as with the cascade at every instant; the anchor's detection is reused when it is that."""
        for index, gray, item in between:
            yield item, self._one(index, gray)
        if anchor_found is None:
            yield anchor, self._one(a_index, a_gray)
        else:
            yield anchor, self._commit(a_gray, *anchor_found)

    def _pairs(self, before: np.ndarray, after: np.ndarray) -> np.ndarray | None:
        """For each box before, the index of the one box after that overlaps it enough (a one-to-one
        match of all of them), or None."""
        if len(before) != len(after) or len(before) == 0:
            return None
        iou = iou_matrix(before, after)
        order = iou.argmax(axis=1)
        if len(set(order.tolist())) != len(order) or (iou[np.arange(len(order)), order] < self.tracker.iou_threshold).any():
            return None
        return order

    def _scaled(self, gray: np.ndarray, k: float) -> np.ndarray:
        """The grey frame at k (1 or 0.5) of its size; the last few kept, since anchors are matched twice."""
        if k == 1.0:
            return gray
        for seen, small in self._halves:
            if seen is gray:
                return small
        small = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
        self._halves = [(gray, small)] + self._halves[:2]
        return small

    @staticmethod
    def _confirm(gray: np.ndarray, k: float, before: np.ndarray, after: np.ndarray, w: float,
                 templates: list[list[np.ndarray]]) -> np.ndarray | None:
        """Each face at this instant: searched around the interpolated centre at each anchor's size; the
        box of the anchor whose face matches best, moved to where it matches. None when one does not match.
        ``gray`` is the frame at k of its size; boxes are in the frame's own pixels."""
        out = np.empty((len(before), 4), np.int32)
        for i, (b0, b1, temps) in enumerate(zip(before, after, templates)):
            centre = (1 - w) * (b0[:2] + b0[2:] / 2) + w * (b1[:2] + b1[2:] / 2)
            best, box, region, region_size = -1.0, None, None, None
            for anchor, t in zip((b0, b1), temps):
                size = anchor[2:].astype(np.float64)
                if region_size is None or (size != region_size).any():  # anchors of one size share the region
                    region, region_size = patch(gray, np.r_[centre - size / 2, size] * k, SEARCH), size
                score, (dx, dy) = best_match(region, t)
                if score > best:
                    best, box = score, np.r_[centre - size / 2 + np.array([dx, dy]) * size / PATCH, size]
            if best < MIN_MATCH:
                return None
            out[i] = np.round(box)
        return out
