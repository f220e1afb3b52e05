"""Soft targets and distillation: table layout, mirror correctness, no teacher calls, stage outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pipeline.core.runfacts import machine_keys_in
from pipeline.inputs.device_data import to_model_input
from pipeline.training.losses import KnowledgeDistillation
from pipeline.dataset.prepared import PreparedData
from pipeline.training.runs import RunSpec, train_over_seeds
from pipeline.training.soft_targets import compute_soft_targets, load_soft_targets, save_soft_targets
from pipeline.training.trainer import TrainConfig, fit
from tests.fixtures_training import INPUT_SIZE, TINY_SPEC, random_split, tiny_model


class CountingModel(torch.nn.Module):
    """Wraps a model and counts forward calls, to prove who was (not) run."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.inner(x)


@pytest.fixture(scope="module")
def teacher():
    torch.manual_seed(0)
    return CountingModel(tiny_model()).eval()


@pytest.fixture(scope="module")
def train_split():
    return random_split(40, 0)


def test_soft_targets_hold_plain_and_mirrored_logits(teacher, train_split, tmp_path):
    table = compute_soft_targets(teacher, train_split, batch_size=16)
    assert table.shape == (40, 2, 7) and table.dtype == np.float32
    i = 7
    image = train_split.images[i:i + 1]
    with torch.no_grad():
        plain = teacher(to_model_input(image))[0]
        mirrored = teacher(to_model_input(torch.flip(image, dims=[-1])))[0]
    np.testing.assert_allclose(table[i, 0], plain.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(table[i, 1], mirrored.numpy(), rtol=1e-5, atol=1e-5)
    assert not np.allclose(table[:, 0], table[:, 1])  # the mirror really is a different view

    save_soft_targets(tmp_path / "soft.npy", table)
    np.testing.assert_array_equal(load_soft_targets(tmp_path / "soft.npy", 40, 7), table)
    with pytest.raises(ValueError, match="soft.npy"):
        load_soft_targets(tmp_path / "soft.npy", 41, 7)


def test_student_training_never_calls_the_teacher(teacher, train_split):
    table = compute_soft_targets(teacher, train_split, batch_size=16)
    calls_after_soft_targets = teacher.calls
    loss_fn = KnowledgeDistillation(T=3.0, alpha=0.2).bind(soft_targets=table)
    config = TrainConfig(epochs=2, batch_size=16, input_size=INPUT_SIZE)
    result = fit(tiny_model, train_split, random_split(12, 1), config, loss_fn)
    assert teacher.calls == calls_after_soft_targets
    assert result.epochs_run == 2 and np.isfinite(result.history[-1]["train_loss"])


def test_distillation_loss_in_training_sees_the_right_teacher_rows(train_split):
    """Training with a table whose rows encode (sample, flip) shows the lookup uses both."""
    n = len(train_split)
    table = np.zeros((n, 2, 7), np.float32)
    table[np.arange(n), 0, 0] = np.arange(n)
    table[np.arange(n), 1, 1] = np.arange(n)
    seen = []

    class Spy(KnowledgeDistillation):
        def forward(self, logits, labels, idx, flip):
            rows = self.teacher_logits[idx, flip.long()]
            seen.append((idx.clone(), flip.clone(), rows.clone()))
            return super().forward(logits, labels, idx, flip)

    fit(tiny_model, train_split, random_split(12, 1), TrainConfig(epochs=1, batch_size=16, input_size=INPUT_SIZE),
        Spy(3.0, 0.2).bind(soft_targets=table))
    all_idx = torch.cat([s[0] for s in seen])
    assert sorted(all_idx.tolist()) == list(range(n))  # every sample once per epoch, none dropped
    for idx, flip, rows in seen:
        column = flip.long()
        assert torch.equal(rows[torch.arange(len(idx)), column], idx.float())
        assert torch.equal(rows[torch.arange(len(idx)), 1 - column], torch.zeros(len(idx)))
    assert 0 < torch.cat([s[1] for s in seen]).float().mean() < 1  # flips are drawn, not all or none


def _prepared(n_train=40, n_val=16, n_test=16) -> PreparedData:
    rng = np.random.default_rng(0)
    n = n_train + n_val + n_test
    labels = rng.integers(0, 7, n).astype(np.int64)
    images = (rng.integers(0, 96, (n, 20, 20)) + labels[:, None, None] * 20).astype(np.uint8)
    split = np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_train, n_val, n_test])
    return PreparedData(images, labels, split, "unit-test", tuple(f"c{i}" for i in range(7)))


def test_training_stage_writes_model_metrics_and_curves_over_seeds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # scratch checkpoints live under ./.cache
    data = _prepared()
    out_dir = tmp_path / "models" / "distill" / "E9"
    spec = RunSpec(kind="distill", name="E9", model_name="tiny", model_spec=TINY_SPEC, out_dir=out_dir)
    train_params = {"input_size": INPUT_SIZE, "batch_size": 16, "lr": 0.02, "device": "cpu", "eval_batch_size": 64}
    table = np.zeros((40, 2, 7), np.float32)
    metrics = train_over_seeds(spec, data, train_params, epochs=2, seeds=[0, 1], loss=KnowledgeDistillation(3.0, 0.2),
                               class_weights=None, soft_targets=table)
    on_disk = json.loads((out_dir / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(metrics))
    expected_keys = {"kind", "run", "model", "dataset", "params", "T", "alpha", "seeds", "val_acc", "val_acc_std",
                     "val_loss", "val_loss_std", "test_acc", "test_acc_std", "test_loss", "test_loss_std", "epochs_run",
                     "per_seed"}
    assert expected_keys <= set(on_disk)
    # where it ran (device, threads, versions) is run.json beside metrics.json, which `dvc metrics` does not read
    assert machine_keys_in(on_disk) == [] and machine_keys_in(metrics) == []
    facts = json.loads((out_dir / "run.json").read_text())
    assert set(facts) == {"device", "threads", "torch", "python"} and facts["device"].startswith("cpu")
    # wall times differ on every run: they go to the log and .cache/timings, never to metrics.json (issue 19)
    timing = {"epoch_seconds", "train_images_per_second"}
    assert not timing & set(on_disk) and not any(timing & set(s) for s in on_disk["per_seed"])
    timings = json.loads((tmp_path / ".cache" / "timings" / "distill_E9.json").read_text())
    assert [s["seed"] for s in timings["per_seed"]] == [0, 1] and all(s["epoch_seconds"] > 0 for s in timings["per_seed"])
    assert (on_disk["kind"], on_disk["run"], on_disk["T"], on_disk["alpha"], on_disk["seeds"]) == ("distill", "E9", 3.0, 0.2, [0, 1])
    accs = [s["test_acc"] for s in on_disk["per_seed"]]
    assert on_disk["test_acc"] == pytest.approx(np.mean(accs)) and on_disk["test_acc_std"] == pytest.approx(np.std(accs))
    assert all(0.0 <= a <= 1.0 for a in accs)
    curves = out_dir / "dvclive" / "plots" / "metrics"
    assert len((curves / "val" / "acc.tsv").read_text().strip().splitlines()) == 1 + 2  # header + 2 epochs
    assert (curves / "seed1" / "train" / "loss.tsv").exists()
    assert {p.name for p in (curves / "train").iterdir()} == {"loss.tsv", "acc.tsv", "ce.tsv", "kl.tsv"}  # each term
    assert not (out_dir / "dvclive" / "dvc.yaml").exists() and not (tmp_path / "dvc.yaml").exists()
    assert not any((tmp_path / ".cache" / "checkpoints").glob("**/*.pt"))  # scratch removed after success
    from pipeline.models import load_model
    model, meta = load_model(out_dir / "model.pt")
    assert meta["kind"] == "distill" and meta["run"] == "E9" and meta["input_size"] == INPUT_SIZE and meta["seed"] == 0
    assert meta["class_names"] == list(data.class_names)


def test_unknown_train_key_is_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = RunSpec(kind="baseline", name="s", model_name="tiny", model_spec=TINY_SPEC, out_dir=tmp_path / "out")
    with pytest.raises(ValueError, match="unknown key 'batch_szie' in section 'train'"):
        train_over_seeds(spec, _prepared(), {"input_size": INPUT_SIZE, "batch_szie": 16}, epochs=1, seeds=[0],
                         loss=KnowledgeDistillation(3.0, 0.2), class_weights=None)
