"""Barsoum et al.'s VGG13-style FER+ network (family ``vgg13_ferplus``), an EmoXNet member.

Microsoft trained it on FER+ at 64x64 grayscale: conv pairs of 64 and 128 channels, then two
triples of 256, each group max-pooled and dropped out (0.25), then two FC 1024 layers (dropout
0.5). Written here from that description (Barsoum et al. 2016; microsoft/FERPlus src/models.py).
Options beyond the original: ``width`` scales every conv (the default CPU run uses a narrow one),
``batch_norm`` adds BN after each conv (from scratch in a few epochs the plain net barely moves),
and an adaptive pool to 4x4 keeps the FC size of the 64x64 original at any input size.
"""

from __future__ import annotations

import torch
from torch import nn

from pipeline.core.specs import Bool, Float, Int
from pipeline.models.registry import DROPOUT, register_family

# (channels, convs) per group; each group ends with 2x2 max-pool and dropout.
GROUPS: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (256, 3))


class VGG13FERPlus(nn.Module):
    """Conv groups -> 4x4 map -> FC 1024 -> FC 1024 -> classes."""

    def __init__(self, num_classes: int, width: float, fc_width: int, batch_norm: bool, grayscale: bool,
                 dropout: float, fc_dropout: float):
        super().__init__()
        self.grayscale = grayscale
        layers: list[nn.Module] = []
        channels = 1 if grayscale else 3
        for base, convs in GROUPS:
            out = max(1, int(round(base * width)))
            for _ in range(convs):
                layers += [nn.Conv2d(channels, out, 3, padding=1, bias=not batch_norm)]
                layers += [nn.BatchNorm2d(out)] if batch_norm else []
                layers += [nn.ReLU(inplace=True)]
                channels = out
            layers += [nn.MaxPool2d(2), nn.Dropout(dropout)]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(4)  # identity at the original 64x64 input
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(channels * 16, fc_width), nn.ReLU(inplace=True), nn.Dropout(fc_dropout),
            nn.Linear(fc_width, fc_width), nn.ReLU(inplace=True), nn.Dropout(fc_dropout),
            nn.Linear(fc_width, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.grayscale:  # the pipeline feeds 3 normalised channels; the original net sees one
            x = x.mean(dim=1, keepdim=True)
        return self.classifier(self.pool(self.features(x)))


@register_family("vgg13_ferplus", {"width": Float(min=0, max=4, min_exclusive=True), "fc_width": Int(min=1),
                                   "batch_norm": Bool(), "grayscale": Bool(), "dropout": DROPOUT, "fc_dropout": DROPOUT})
def vgg13_ferplus(width: float = 1.0, fc_width: int = 1024, batch_norm: bool = False, grayscale: bool = True,
                  dropout: float = 0.25, fc_dropout: float = 0.5, num_classes: int = 8) -> VGG13FERPlus:
    """Barsoum's VGG13 at width 1.0 (8.75 M params with 8 classes); input >= 16 pixels (four 2x2 pools)."""
    return VGG13FERPlus(num_classes, float(width), int(fc_width), bool(batch_norm), bool(grayscale), float(dropout),
                        float(fc_dropout))
