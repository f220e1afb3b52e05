"""ResEmoteNet and its width-scaled Mini-ResEmoteNet students (family ``resemotenet``).

Attribute names follow the official ResEmoteNet code (conv1..bn3, se.fc, res_block1..3 with
conv1/bn1/conv2/bn2/shortcut, fc1..fc4), so an official checkpoint loads with strict=True.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.core.specs import Float, Int
from pipeline.models.registry import DROPOUT, register_family


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

    def __init__(self, width: float = 1.0, se_reduction: int = 16, num_classes: int = 7,
                 conv_dropout: float = 0.2, fc_dropout: float = 0.5):
        super().__init__()

        def c(base: int) -> int:
            return max(1, int(round(base * width)))

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
        self.dropout1 = nn.Dropout(conv_dropout)  # the paper's 0.2 after the first two conv blocks
        self.dropout2 = nn.Dropout(fc_dropout)  # the paper's 0.5 after each hidden FC layer

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


@register_family("resemotenet", {"width": Float(min=0, max=4, min_exclusive=True), "se_reduction": Int(min=1),
                                 "conv_dropout": DROPOUT, "fc_dropout": DROPOUT})
def resemotenet(width: float = 1.0, se_reduction: int = 16, num_classes: int = 7, conv_dropout: float = 0.2,
                fc_dropout: float = 0.5) -> ResEmoteNet:
    """The teacher at width 1.0 (80,238,599 params, 7 classes); students A/B/C at 0.5/0.25/0.125.

    The dropout rates default to the paper's; on the narrow FC layers of student C (128/64/32 units)
    0.5 makes it underfit, so a release profile may lower ``fc_dropout`` (README, "Release model").
    """
    return ResEmoteNet(width=float(width), se_reduction=int(se_reduction), num_classes=num_classes,
                       conv_dropout=float(conv_dropout), fc_dropout=float(fc_dropout))
