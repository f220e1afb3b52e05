"""ResEmoteNet and its width-scaled Mini-ResEmoteNet students, resolved by name from one factory.

Attribute names follow the official ResEmoteNet code (conv1..bn3, se.fc, res_block1..3 with
conv1/bn1/conv2/bn2/shortcut, fc1..fc4), so an official checkpoint loads with strict=True.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.constants import NUM_CLASSES


@dataclass(frozen=True)
class ModelSpec:
    """What defines an architecture: channel width multiplier and the SE reduction ratio."""

    width: float = 1.0
    se_reduction: int = 16
    num_classes: int = NUM_CLASSES

    def channels(self, base: int) -> int:
        return max(1, int(round(base * self.width)))


class SEBlock(nn.Module):
    """Squeeze-and-excitation: global pool, bottleneck MLP without bias, sigmoid channel gate."""

    def __init__(self, channels: int, reduction: int):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, channels, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.fc(x.mean(dim=(2, 3)))
        return x * gate[:, :, None, None]


class ResidualBlock(nn.Module):
    """Two 3x3 convs (the first strided) plus a 1x1 conv + BN shortcut."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 2):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride), nn.BatchNorm2d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResEmoteNet(nn.Module):
    """The teacher at width 1.0; students A/B/C at 1/2, 1/4, 1/8 of every layer's channels."""

    def __init__(self, width: float = 1.0, se_reduction: int = 16, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.spec = ModelSpec(width=width, se_reduction=se_reduction, num_classes=num_classes)
        c = self.spec.channels
        self.conv1 = nn.Conv2d(3, c(64), 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c(64))
        self.conv2 = nn.Conv2d(c(64), c(128), 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c(128))
        self.conv3 = nn.Conv2d(c(128), c(256), 3, padding=1)
        self.bn3 = nn.BatchNorm2d(c(256))
        self.se = SEBlock(c(256), se_reduction)
        self.res_block1 = ResidualBlock(c(256), c(512))
        self.res_block2 = ResidualBlock(c(512), c(1024))
        self.res_block3 = ResidualBlock(c(1024), c(2048))
        self.fc1 = nn.Linear(c(2048), c(1024))
        self.fc2 = nn.Linear(c(1024), c(512))
        self.fc3 = nn.Linear(c(512), c(256))
        self.fc4 = nn.Linear(c(256), num_classes)
        self.dropout1 = nn.Dropout(0.2)
        self.dropout2 = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout1(F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2))
        x = self.dropout1(F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2))
        x = self.se(F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2))
        x = self.res_block3(self.res_block2(self.res_block1(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        x = self.dropout2(F.relu(self.fc2(x)))
        x = self.dropout2(F.relu(self.fc3(x)))
        return self.fc4(x)


def build_model(spec: ModelSpec | dict) -> ResEmoteNet:
    """The one factory: a ModelSpec, or params.yaml's ``{width, se_reduction}`` mapping."""
    if isinstance(spec, dict):
        spec = ModelSpec(**spec)
    return ResEmoteNet(width=spec.width, se_reduction=spec.se_reduction, num_classes=spec.num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_model(path: str | os.PathLike, model: ResEmoteNet, **meta) -> None:
    """Save weights plus what is needed to rebuild the model (spec, input size, name...)."""
    from pipeline.atomic import save_torch

    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_torch(path, {"model": state, "spec": asdict(model.spec), "meta": meta})


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> tuple[ResEmoteNet, dict]:
    """Rebuild a model saved by :func:`save_model` (weights_only loading); returns (model, meta)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"model checkpoint not found: {path}")
    blob = torch.load(path, map_location=map_location, weights_only=True)
    model = build_model(ModelSpec(**blob["spec"]))
    model.load_state_dict(blob["model"], strict=True)
    return model.to(map_location), dict(blob.get("meta", {}))
