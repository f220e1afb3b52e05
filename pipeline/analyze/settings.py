"""Every knob of one analysis in one place; summary.json records it so a result can be reproduced."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Settings:
    rate_hz: float = 10.0  # sampled instants per second of video, whatever its frame rate
    smooth_s: float = 1.0  # centred moving-average window over probabilities
    hysteresis: float = 0.10  # the smoothed top label changes only when a rival leads it by this much
    min_episode_s: float = 0.5  # shorter runs of one label are not counted as episodes
    detect_width: int = 320  # frames are downscaled to this width for the Haar cascade (faces stay >= ~40 px)
    min_face_frac: float = 0.15  # smallest face, as a share of the (downscaled) frame height
    full_scan_s: float = 2.0  # whole-frame detection this often (and whenever no face is tracked);
    # in between only around tracked faces (~2x cheaper). A newcomer is found within this time.
    cascade_every_s: float = 1.0  # while every tracked face is found, the cascade runs this often; the
    # instants between get boxes interpolated between two detections, confirmed by template matching
    # (pipeline.analyze.follow). 0: the cascade at every instant (slower, the behaviour before).
    empty_scan_gate: bool = False  # with nobody tracked, skip the whole-frame scan while no 16 px cell of the
    # frame moved its mean grey level by more than 2 since the last scan found nobody (approximate; off: only a
    # bit-identical frame skips it)
    luma: bool = True  # grey frames from the decoder's luma plane, mapped to the BGR path's grey (within one
    # level; pipeline.analyze.luma) instead of decoding to BGR first: grey models only (an RGB model gets BGR).
    # ~0.15 s less CPU per minute of 640x480 video; the one grey level moves boxes by a pixel here and there, and
    # on the speed benchmark's recording 3 of 600 smoothed labels (tests/analyze/test_real_faces.py)
    iou_threshold: float = 0.3  # a detection continues a track when their boxes overlap this much
    max_gap_s: float = 1.0  # a track survives this long without a detection
    all_faces: bool = False  # keep every track (rows get its face_id) instead of the participant only
    roi: tuple[int, int, int, int] | None = None  # x, y, w, h: crop of the webcam in a screen recording
    batch_size: int = 128  # faces per ONNX Runtime call
    top_moments: int = 10  # rows of moments.csv
    threads: int = 1  # ONNX Runtime intra-op threads (0: all cores). One: the model runs in its own thread
    # beside detection and decoding (pipeline.analyze.batches), where more threads mostly spin (~1.5x the CPU)

    def __post_init__(self) -> None:
        if not self.rate_hz > 0:
            raise ValueError(f"--rate must be > 0 (got {self.rate_hz})")
        if self.smooth_s < 0 or self.hysteresis < 0 or self.min_episode_s < 0:
            raise ValueError("--smooth, --hysteresis and --min-episode must be >= 0")
        if self.cascade_every_s < 0:
            raise ValueError(f"cascade_every_s must be >= 0 (got {self.cascade_every_s})")
        if self.roi is not None and (len(self.roi) != 4 or self.roi[2] <= 0 or self.roi[3] <= 0):
            raise ValueError(f"--roi needs x,y,w,h with w,h > 0 (got {self.roi})")

    @property
    def smooth_samples(self) -> int:
        return max(1, int(round(self.smooth_s * self.rate_hz)))

    @property
    def cascade_every(self) -> int:
        """Instants between cascade anchors while faces are tracked (1: every instant)."""
        return max(1, int(round(self.cascade_every_s * self.rate_hz)))

    @property
    def max_missed(self) -> int:
        return max(1, int(round(self.max_gap_s * self.rate_hz)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
