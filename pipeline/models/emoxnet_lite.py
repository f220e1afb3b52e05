"""EmoXNetLite: torchvision's MobileNetV3-small adapted to small faces (family ``emoxnet_lite``).

The abstract asks for an efficient network fast enough for real time; MobileNetV3-small is the
smallest torchvision classifier (about 1.5 M params with a 7-8 class head, under the issue's 2 M
limit). Built by torchvision's constructor with random weights; its stride-2 stem is made
stride ``stem_stride`` (default 1) so a 32-64 pixel face is not downsampled 32x to a single pixel.
torchvision's BatchNorm momentum (0.01, tuned for ImageNet-length runs) leaves the running
statistics near their initial values after a few hundred steps, so eval-mode outputs collapse to
one class; ``bn_momentum`` (default 0.1, PyTorch's) fixes that for short schedules.
"""

from __future__ import annotations

from functools import partial

from torch import nn

from pipeline.core.specs import Float
from pipeline.models.registry import DROPOUT, STEM_STRIDE, register_family


@register_family("emoxnet_lite", {"width_mult": Float(min=0, max=2, min_exclusive=True), "stem_stride": STEM_STRIDE,
                                  "dropout": DROPOUT, "bn_momentum": Float(min=0, max=1, min_exclusive=True)})
def emoxnet_lite(width_mult: float = 1.0, stem_stride: int = 1, dropout: float = 0.2, bn_momentum: float = 0.1,
                 num_classes: int = 7) -> nn.Module:
    """MobileNetV3-small (width ``width_mult``) whose first conv has stride ``stem_stride``."""
    from torchvision.models import mobilenet_v3_small  # here, not at the top: torchvision costs ~2 s to import

    norm = partial(nn.BatchNorm2d, eps=0.001, momentum=float(bn_momentum))
    model = mobilenet_v3_small(weights=None, num_classes=num_classes, width_mult=float(width_mult),
                               dropout=float(dropout), norm_layer=norm)
    stem = model.features[0][0]
    stem.stride = (stem_stride, stem_stride)
    return model
