"""The contract between an exported model and its consumers, stored as ONNX metadata_props.

Preprocessing travels with the model (timm's lesson): a consumer reads the class names, input
size, channels and normalisation from the file instead of a global constant, so a model trained
at another size or on another dataset is applied correctly.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.inputs.contract import IMAGE_MODES, InputContract

# Values of ``data_source`` that mean "generated data": the model shows mechanics, not emotions.
SYNTHETIC_SOURCES = frozenset({"synthetic"})


@dataclass(frozen=True)
class ExportMeta:
    """What a consumer needs to feed the network and read its output."""

    class_names: tuple[str, ...]
    input_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    channels: int = 3  # channels the network takes; grayscale images are repeated to fill them
    image_mode: str = "grayscale"  # what the training images were (IMAGE_MODES): grayscale broadcast to `channels`, or rgb
    input_name: str = "input"
    output_name: str = "logits"
    extra: dict[str, Any] = field(default_factory=dict)  # run, commit, metrics, data_source...

    def __post_init__(self) -> None:
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError(f"mean/std need {self.channels} values each, got {self.mean} / {self.std}")
        if not self.class_names:
            raise ValueError("class_names is empty")
        if self.image_mode not in IMAGE_MODES:
            raise ValueError(f"image_mode must be one of {', '.join(IMAGE_MODES)}, got {self.image_mode!r}")

    @classmethod
    def from_contract(cls, contract: InputContract, extra: dict[str, Any] | None = None) -> "ExportMeta":
        """The metadata of a model whose checkpoint carries ``contract`` (pipeline.inputs): nothing is guessed."""
        return cls(class_names=contract.class_names, input_size=contract.input_size, mean=contract.mean,
                   std=contract.std, channels=contract.channels, image_mode=contract.image_mode, extra=dict(extra or {}))

    @property
    def contract(self) -> InputContract:
        """How to feed the exported network (the same contract its checkpoint carried)."""
        return InputContract(self.class_names, self.input_size, self.image_mode, self.channels, self.mean, self.std)

    @property
    def data_source(self) -> str:
        return str(self.extra.get("data_source", "unknown"))

    @property
    def synthetic(self) -> bool:
        """True when the model was trained on generated data (every output must say so)."""
        return self.data_source in SYNTHETIC_SOURCES

    def to_props(self) -> dict[str, str]:
        """Flat string key/values for ONNX ``metadata_props`` (JSON for structured values)."""
        props = {k: json.dumps(v) for k, v in asdict(self).items() if k != "extra"}
        props.update({f"x.{k}": json.dumps(v, default=str) for k, v in self.extra.items()})
        props["trained_on_synthetic_data"] = json.dumps(self.synthetic)
        return props

    @classmethod
    def from_props(cls, props: dict[str, str], source: str = "<onnx>") -> "ExportMeta":
        required = ("class_names", "input_size", "mean", "std")
        missing = [k for k in required if k not in props]
        if missing:
            raise ValueError(f"{source}: ONNX metadata lacks {missing}; export it with pipeline.export")
        known = {k: json.loads(props[k]) for k in cls.__dataclass_fields__ if k != "extra" and k in props}
        extra = {k[2:]: json.loads(v) for k, v in props.items() if k.startswith("x.")}
        for key in ("class_names", "mean", "std"):
            known[key] = tuple(known[key])
        return cls(**known, extra=extra)


def read_meta(path: str | os.PathLike) -> ExportMeta:
    """ExportMeta of an exported file, read without loading the weights into a session."""
    import onnx

    if not os.path.exists(path):
        raise FileNotFoundError(f"ONNX model not found: {path}")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # a truncated or non-ONNX file
        raise ValueError(f"{path}: not a readable ONNX model ({exc})") from exc
    return ExportMeta.from_props({p.key: p.value for p in model.metadata_props}, source=str(path))
