"""A greedy IoU tracker over sampled instants, and the choice of the participant among its tracks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every (x, y, w, h) box in ``a`` with every box in ``b``."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    a = a.astype(np.float64)[:, None, :]
    b = b.astype(np.float64)[None, :, :]
    ix = np.clip(np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    iy = np.clip(np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = ix * iy
    return inter / (a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter)


@dataclass
class _Track:
    box: np.ndarray
    missed: int = 0


@dataclass
class IoUTracker:
    """Each detection continues the live track it overlaps most (IoU >= threshold) or starts a new one;
    a track dies after ``max_missed`` instants without a detection."""

    iou_threshold: float = 0.3
    max_missed: int = 10
    tracks: dict[int, _Track] = field(default_factory=dict)
    next_id: int = 1

    def hints(self) -> np.ndarray:
        """Last boxes of the live tracks: where to look for faces at the next instant."""
        return np.array([t.box for t in self.tracks.values()], np.float64).reshape(-1, 4)

    def update(self, boxes: np.ndarray) -> list[int]:
        ids = list(self.tracks)
        live = np.array([self.tracks[i].box for i in ids]).reshape(-1, 4)
        iou = iou_matrix(boxes, live)
        assigned = [-1] * len(boxes)
        used: set[int] = set()
        for flat in np.argsort(-iou, axis=None):  # greedy: best overlaps first
            d, t = np.unravel_index(flat, iou.shape)
            if iou[d, t] < self.iou_threshold:
                break
            if assigned[d] != -1 or t in used:
                continue
            assigned[d] = ids[t]
            used.add(t)
        for d, box in enumerate(boxes):
            if assigned[d] == -1:
                assigned[d] = self.next_id
                self.next_id += 1
            self.tracks[assigned[d]] = _Track(np.asarray(box))
        for t, tid in enumerate(ids):
            if t not in used:
                self.tracks[tid].missed += 1
                if self.tracks[tid].missed > self.max_missed:
                    del self.tracks[tid]
        return assigned


def participant_tracks(sample_idx: np.ndarray, face_ids: np.ndarray) -> set[int]:
    """The participant: the most persistent track, plus every other track that never overlaps in time
    with those already chosen (the same person returning after leaving the frame, not a visitor)."""
    if len(face_ids) == 0:
        return set()
    ids, counts = np.unique(face_ids, return_counts=True)
    chosen: set[int] = set()
    taken = np.zeros(int(sample_idx.max()) + 1, bool)
    for tid in ids[np.argsort(-counts, kind="stable")]:
        instants = sample_idx[face_ids == tid]
        if not taken[instants].any():
            chosen.add(int(tid))
            taken[instants] = True
    return chosen
