"""Architectures: the paper's exact parameter counts, output shapes, official checkpoint layout."""

from __future__ import annotations

import pytest
import torch

from pipeline.models import build_model, count_parameters, load_model, save_model

PAPER_PARAMS = {
    "teacher": ({"width": 1.0, "se_reduction": 16}, 80_238_599),
    "student_a": ({"width": 0.5, "se_reduction": 16}, 20_069_383),
    "student_b": ({"width": 0.25, "se_reduction": 16}, 5_022_215),
    "student_c": ({"width": 0.125, "se_reduction": 1}, 1_259_911),
}


@pytest.mark.parametrize("name", sorted(PAPER_PARAMS))
def test_parameter_counts_match_the_paper(name):
    spec, expected = PAPER_PARAMS[name]
    with torch.device("meta"):  # no memory or init time for 80M parameters
        model = build_model(spec, 7)
    assert count_parameters(model) == expected


@pytest.mark.parametrize("size", [16, 48, 64])
def test_forward_gives_one_logit_per_class(size):
    model = build_model({"width": 0.0625, "se_reduction": 1}, 7).eval()
    with torch.no_grad():
        out = model(torch.randn(3, 3, size, size))
    assert out.shape == (3, 7) and torch.isfinite(out).all()


def official_layout(num_classes: int = 7) -> dict[str, tuple[int, ...]]:
    """Key names and shapes of the official ResEmoteNet state_dict, written out independently."""
    shapes: dict[str, tuple[int, ...]] = {}

    def conv(name, cin, cout, k):
        shapes[f"{name}.weight"] = (cout, cin, k, k)
        shapes[f"{name}.bias"] = (cout,)

    def bn(name, c):
        for p in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{name}.{p}"] = (c,)
        shapes[f"{name}.num_batches_tracked"] = ()

    def linear(name, cin, cout):
        shapes[f"{name}.weight"] = (cout, cin)
        shapes[f"{name}.bias"] = (cout,)

    conv("conv1", 3, 64, 3); bn("bn1", 64)
    conv("conv2", 64, 128, 3); bn("bn2", 128)
    conv("conv3", 128, 256, 3); bn("bn3", 256)
    shapes["se.fc.0.weight"] = (256 // 16, 256)
    shapes["se.fc.2.weight"] = (256, 256 // 16)
    for i, (cin, cout) in enumerate([(256, 512), (512, 1024), (1024, 2048)], start=1):
        block = f"res_block{i}"
        conv(f"{block}.conv1", cin, cout, 3); bn(f"{block}.bn1", cout)
        conv(f"{block}.conv2", cout, cout, 3); bn(f"{block}.bn2", cout)
        conv(f"{block}.shortcut.0", cin, cout, 1); bn(f"{block}.shortcut.1", cout)
    linear("fc1", 2048, 1024); linear("fc2", 1024, 512); linear("fc3", 512, 256); linear("fc4", 256, num_classes)
    return shapes


def test_official_state_dict_loads_strictly():
    layout = official_layout()
    model = build_model({"width": 1.0, "se_reduction": 16}, 7)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == layout
    official = {k: (torch.full(shape, 0.5) if shape else torch.tensor(3)) for k, shape in layout.items()}
    model.load_state_dict(official, strict=True)
    assert torch.equal(model.fc4.bias, torch.full((7,), 0.5))


def test_save_and_load_round_trip(tmp_path):
    model = build_model({"family": "resemotenet", "width": 0.0625, "se_reduction": 1}, 8)
    save_model(tmp_path / "m.pt", model, name="tiny", input_size=16)
    loaded, meta = load_model(tmp_path / "m.pt")  # rebuilt from the checkpoint alone, 8-way head included
    assert meta == {"name": "tiny", "input_size": 16} and loaded.fc4.out_features == 8
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key])


@pytest.mark.parametrize("spec, message", [
    ({"family": "resnet99"}, r"models.x: unknown family 'resnet99'; known: .*resemotenet"),
    ({"family": "resemotenet", "widht": 0.5}, r"models.x: unknown key 'widht' for family resemotenet; allowed: width, se_reduction"),
    ({"width": -1}, r"params.yaml: models.x.width must be a number > 0 and <= 4, got -1"),
])
def test_bad_model_spec_names_the_key(spec, message):
    with pytest.raises(ValueError, match=message):
        build_model(spec, 7, where="models.x")


def test_too_small_input_names_train_input_size():
    from pipeline.models import check_input_size

    check_input_size({"width": 0.0625, "se_reduction": 1}, 7, 8, "models.tiny")  # the smallest that works
    with pytest.raises(ValueError, match=r"train.input_size 7 is too small for models.tiny"):
        check_input_size({"width": 0.0625, "se_reduction": 1}, 7, 7, "models.tiny")
