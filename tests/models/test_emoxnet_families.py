"""EmoXNet's model families: built by the one factory, small-image stems, Lite size, a training step, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from pipeline.inputs.device_data import DeviceSplit
from pipeline.models import build_model, count_parameters, load_model, save_model
from pipeline.training.losses import build_loss
from pipeline.training.trainer import train_step

SPECS = {
    "vgg13_ferplus": {"family": "vgg13_ferplus", "width": 0.125, "fc_width": 32, "batch_norm": True},
    "resnet18_small": {"family": "resnet18_small"},
    "emoxnet_lite": {"family": "emoxnet_lite"},
}


@pytest.mark.parametrize("name", SPECS)
def test_family_builds_with_the_data_class_count(name):
    model = build_model(SPECS[name], 8).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 16, 16)).shape == (2, 8)
    assert model.model_spec["num_classes"] == 8


def test_full_vgg13_matches_barsoum_shape():
    model = build_model({"family": "vgg13_ferplus"}, 8)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 256, 256, 256, 256]
    assert convs[0].in_channels == 1  # grayscale, as Microsoft trained it
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [1024, 1024, 8]


def test_resnet18_small_stem_and_lite_size():
    resnet = build_model({"family": "resnet18_small"}, 7)
    assert resnet.conv1.kernel_size == (3, 3) and resnet.conv1.stride == (1, 1)
    assert isinstance(resnet.maxpool, nn.Identity)
    lite = build_model({"family": "emoxnet_lite"}, 8)
    assert lite.features[0][0].stride == (1, 1)
    assert count_parameters(lite) <= 2_000_000


def test_unknown_option_names_the_family():
    with pytest.raises(ValueError, match="resnet18_small"):
        build_model({"family": "resnet18_small", "width": 2}, 7)


def test_torchvision_member_trains_a_step(tmp_path):
    torch.manual_seed(0)
    model = build_model({"family": "resnet18_small", "stem_stride": 2}, 7)
    rng = np.random.default_rng(0)
    split = DeviceSplit.from_arrays(rng.integers(0, 255, (4, 16, 16), dtype=np.uint8), np.array([0, 1, 2, 3]), 16, "cpu")
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    terms, logits = train_step(model, optimizer, build_loss({"name": "ce"}).bind(), split, torch.arange(4),
                               torch.tensor([True, False, True, False]))
    assert torch.isfinite(terms["loss"]) and logits.shape == (4, 7)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    save_model(tmp_path / "m.pt", model, input_size=16)
    loaded, meta = load_model(tmp_path / "m.pt")
    assert meta["input_size"] == 16 and isinstance(loaded.maxpool, nn.Identity)
