"""torchvision's ResNet-18 with a small-image stem (family ``resnet18_small``), an EmoXNet member.

Built by torchvision's own constructor (random weights: nothing is downloaded), then its ImageNet
stem - a 7x7 stride-2 conv and a max-pool, which shrink a 48x48 face to 12x12 before the first
block - is swapped for a 3x3 stride-1 conv and no pool, as CIFAR-style ResNets do.
"""

from __future__ import annotations

from torch import nn

from pipeline.models.registry import STEM_STRIDE, register_family


@register_family("resnet18_small", {"stem_stride": STEM_STRIDE})
def resnet18_small(stem_stride: int = 1, num_classes: int = 7) -> nn.Module:
    """ResNet-18 (11.2 M params) with a 3x3 first conv of stride ``stem_stride`` and no max-pool."""
    from torchvision.models import resnet18  # here, not at the top: torchvision costs ~2 s to import

    model = resnet18(weights=None, num_classes=num_classes)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=stem_stride, padding=1, bias=False)
    model.maxpool = nn.Identity()
    return model
