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
from pipeline.training.trainer import fit
from tests.fixtures_training import INPUT_SIZE, TEST_TRAIN, TINY_SPEC, random_split, tiny_model, train_config


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
    config = train_config(epochs=2, batch_size=16, input_size=INPUT_SIZE)
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

    fit(tiny_model, train_split, random_split(12, 1), train_config(epochs=1, batch_size=16, input_size=INPUT_SIZE),
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
    train_params = {**TEST_TRAIN, "input_size": INPUT_SIZE, "batch_size": 16, "lr": 0.02, "device": "cpu",
                    "eval_batch_size": 64}
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


def test_seeds_trained_in_parallel_processes_give_the_same_outputs(tmp_path, monkeypatch):
    """PIPELINE_ONE_SEED: each seed trained on its own (as a second process would), then the stage's run with
    every seed reuses them and writes what one process training both seeds writes."""
    data = _prepared()
    train_params = {**TEST_TRAIN, "input_size": INPUT_SIZE, "batch_size": 16, "lr": 0.02, "device": "cpu",
                    "eval_batch_size": 64}
    table = np.zeros((40, 2, 7), np.float32)

    def run(folder: str) -> dict:
        spec = RunSpec(kind="distill", name="E9", model_name="tiny", model_spec=TINY_SPEC,
                       out_dir=tmp_path / folder / "models" / "distill" / "E9")
        return train_over_seeds(spec, data, train_params, epochs=2, seeds=[0, 1], loss=KnowledgeDistillation(3.0, 0.2),
                                class_weights=None, soft_targets=table)

    monkeypatch.chdir(tmp_path)
    together = run("together")
    for seed in ("1", "0"):
        monkeypatch.setenv("PIPELINE_ONE_SEED", seed)
        assert run("parallel") == {}
        assert (tmp_path / ".cache" / "checkpoints" / "distill_E9" / f"seed{seed}.pt").exists()
    assert not (tmp_path / "parallel" / "models").exists()  # a one-seed process writes no outputs
    monkeypatch.setenv("PIPELINE_ONE_SEED", "7")
    with pytest.raises(ValueError, match="PIPELINE_ONE_SEED='7' is not one of this run's seeds"):
        run("parallel")
    monkeypatch.delenv("PIPELINE_ONE_SEED")
    assert run("parallel") == together
    for rel in ("metrics.json", "dvclive/plots/metrics/val/acc.tsv", "dvclive/plots/metrics/seed1/val/acc.tsv"):
        assert (tmp_path / "parallel/models/distill/E9" / rel).read_bytes() == \
            (tmp_path / "together/models/distill/E9" / rel).read_bytes()
    assert not any((tmp_path / ".cache" / "checkpoints").glob("**/*.pt"))


def test_kd_online_runs_the_teacher_on_the_seen_view_and_matches_kd_without_augmentation(teacher, train_split):
    """kd_online = kd with the teacher run on each batch's model input: with flip only, the same targets as the table."""
    from pipeline.training.losses import build_loss

    table = compute_soft_targets(teacher, train_split, batch_size=16)
    kd = build_loss({"name": "kd", "T": 3, "alpha": 0.2}).bind(soft_targets=table)
    online = build_loss({"name": "kd_online", "T": 3, "alpha": 0.2}).bind(teacher=teacher)
    assert online.needs_teacher and not online.needs_soft_targets
    assert "teacher" in online.identity()  # a changed teacher never resumes a stale run
    idx = torch.tensor([3, 7, 11, 2])
    flip = torch.tensor([False, True, True, False])
    images = train_split.images[idx].clone()
    images[flip] = images[flip].flip(-1)
    inputs = to_model_input(images)
    logits = torch.randn(4, 7)
    calls = teacher.calls
    expected, got = kd(logits, train_split.labels[idx], idx, flip), online(logits, train_split.labels[idx], idx, flip,
                                                                             inputs=inputs)
    assert teacher.calls == calls + 1
    for term in ("loss", "ce", "kl"):
        assert got[term].item() == pytest.approx(expected[term].item(), rel=1e-4, abs=1e-6)
    with pytest.raises(ValueError, match="needs its model"):
        build_loss({"name": "kd_online"}).bind()


def test_kd_online_trains_through_the_trainer_with_augmentation(teacher, train_split):
    from pipeline.training.losses import build_loss

    val = random_split(16, 1)
    loss = build_loss({"name": "kd_online", "T": 3, "alpha": 0.5}).bind(teacher=teacher)
    config = train_config(epochs=1, batch_size=16, lr=0.02, input_size=INPUT_SIZE, eval_batch_size=64, device="cpu",
                         seed=0, aug_shift=0.1, aug_rotate=10.0)
    calls = teacher.calls
    result = fit(tiny_model, train_split, val, config, loss)
    assert teacher.calls - calls == 3  # one teacher pass per step (40 images, batch 16)
    assert {"train_ce", "train_kl"} <= set(result.history[0])
