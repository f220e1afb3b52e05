"""The release profile's departures from the paper, each a named param: on-device random affine,
OneCycle/cosine schedules, CE label smoothing, ResEmoteNet dropout rates. Defaults stay the paper's."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pipeline.core.params import ParamsError
from pipeline.core.typed import plain
from pipeline.inputs.device_data import random_affine, to_model_input
from pipeline.models import build_model
from pipeline.params.load import check_params, load_params
from pipeline.training.checkpoint import load_checkpoint
from pipeline.training.losses import CrossEntropy, build_loss
from pipeline.training.trainer import fit
from tests.fixtures_training import INPUT_SIZE, random_split, tiny_model, train_config
from tests.helpers import REPO_ROOT

AUGMENTED = train_config(epochs=3, batch_size=16, lr=0.05, input_size=INPUT_SIZE, seed=1, schedule="onecycle",
                        aug_shift=0.1, aug_rotate=10.0, aug_scale=0.1)


@pytest.fixture(scope="module")
def splits():
    return random_split(50, 0), random_split(20, 1), random_split(20, 2)


def test_identity_affine_leaves_the_batch_unchanged():
    batch = torch.randint(0, 256, (4, 1, 16, 16), dtype=torch.uint8)
    identity = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(4, 2, 3)
    assert torch.allclose(to_model_input(batch, None, identity), to_model_input(batch), atol=1e-5)


def test_random_affine_is_seeded_and_bounded():
    draw = lambda: random_affine(1000, 0.1, 10.0, 0.1, torch.Generator().manual_seed(5), "cpu")  # noqa: E731
    a, b = draw(), draw()
    assert torch.equal(a, b)
    assert a[:, :, 2].abs().max() <= 0.2 + 1e-6  # shift of 10 % of the side = 0.2 in [-1, 1] coordinates
    scale = torch.linalg.det(a[:, :, :2]).rsqrt()  # det = 1 / zoom^2
    assert scale.min() >= 0.9 - 1e-5 and scale.max() <= 1.1 + 1e-5
    shifted = to_model_input(torch.randint(0, 256, (8, 1, 16, 16), dtype=torch.uint8), None, a[:8])
    assert shifted.shape == (8, 3, 16, 16)


def test_onecycle_runs_its_lr_cycle_and_resumes_bit_identical(splits, tmp_path):
    train, val, test = splits
    plain = fit(tiny_model, train, val, AUGMENTED, CrossEntropy(), test=test)
    lrs = [r["lr"] for r in plain.history]
    assert lrs[-1] < 0.01 * AUGMENTED.lr  # annealed to near zero at the last step
    ckpt = tmp_path / "c.pt"

    def crash(e, s):
        if (e, s) == (1, 2):
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        fit(tiny_model, train, val, AUGMENTED, CrossEntropy(), test=test, checkpoint=ckpt, on_step=crash)
    assert load_checkpoint(ckpt, torch.load(ckpt, weights_only=True)["fingerprint"])["epoch"] == 1
    resumed = fit(tiny_model, train, val, AUGMENTED, CrossEntropy(), test=test, checkpoint=ckpt)
    for name, tensor in plain.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
    assert [r["lr"] for r in resumed.history] == lrs


def test_augmentation_changes_training_and_cosine_ends_at_zero(splits):
    train, val, _ = splits
    base = dict(epochs=2, batch_size=16, lr=0.05, input_size=INPUT_SIZE, seed=1)
    flat = fit(tiny_model, train, val, train_config(**base), CrossEntropy())
    warped = fit(tiny_model, train, val, train_config(**base, aug_shift=0.2), CrossEntropy())
    assert flat.history[0]["train_loss"] != warped.history[0]["train_loss"]
    cosine = fit(tiny_model, train, val, train_config(**base, schedule="cosine"), CrossEntropy())
    assert [r["lr"] for r in cosine.history] == pytest.approx([0.05, 0.025])


def test_label_smoothing_option():
    logits, labels = torch.randn(6, 7), torch.arange(6)
    smoothed = build_loss({"name": "ce", "label_smoothing": 0.1}).bind()
    expected = F.cross_entropy(logits, labels, label_smoothing=0.1)
    assert torch.allclose(smoothed(logits, labels)["loss"], expected)
    assert smoothed.identity()["label_smoothing"] == 0.1
    assert "label_smoothing" not in build_loss({"name": "ce"}).identity()  # the paper's CE: identity unchanged
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        build_loss({"name": "ce", "label_smoothing": 1.5})


def test_dropout_rates_are_model_options():
    model = build_model({"family": "resemotenet", "width": 0.125, "se_reduction": 1, "fc_dropout": 0.1,
                         "conv_dropout": 0.0}, 7)
    assert model.dropout2.p == 0.1 and model.dropout1.p == 0.0
    paper = build_model({"family": "resemotenet", "width": 0.125, "se_reduction": 1}, 7)
    assert paper.dropout2.p == 0.5 and paper.dropout1.p == 0.2
    with pytest.raises(ValueError, match="fc_dropout"):
        build_model({"family": "resemotenet", "fc_dropout": 1.0}, 7)


def test_schedule_and_augmentation_params_are_checked():
    params = plain(load_params(REPO_ROOT / "params.yaml"))  # a plain dict to edit
    assert params["train"]["schedule"] == "plateau" and params["train"]["aug_shift"] == 0.0
    with pytest.raises(ParamsError, match="train.schedule must be one of plateau, onecycle, cosine"):
        check_params({**params, "train": {**params["train"], "schedule": "step"}})
    with pytest.raises(ParamsError, match="train.aug_shift"):
        check_params({**params, "train": {**params["train"], "aug_shift": 0.9}})
