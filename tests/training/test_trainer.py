"""The shared trainer: learning, kill-and-resume equivalence, safe checkpoint loading, NaN errors."""

from __future__ import annotations

import pickle

import pytest
import torch

from pipeline.training.checkpoint import load_checkpoint
from pipeline.training.losses import CrossEntropy
from pipeline.training.trainer import batch_bounds, fit
from tests.fixtures_training import INPUT_SIZE, random_split, tiny_model, train_config

CONFIG = train_config(epochs=3, batch_size=16, lr=0.05, input_size=INPUT_SIZE, plateau_patience=0, seed=3)


@pytest.fixture(scope="module")
def splits():
    return random_split(50, 0), random_split(20, 1), random_split(20, 2)


class Crash(Exception):
    pass


def crash_at(epoch: int, step: int):
    def hook(e, s):
        if (e, s) == (epoch, step):
            raise Crash(f"simulated kill at epoch {e} step {s}")
    return hook


def test_batches_cover_every_sample_and_never_leave_a_single_one():
    for n in (2, 17, 32, 33, 50):
        bounds = batch_bounds(n, 16)
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        assert all(hi - lo >= 2 for lo, hi in bounds)
    with pytest.raises(ValueError):
        batch_bounds(1, 16)


def test_a_few_steps_lower_the_loss_on_a_tiny_batch():
    torch.manual_seed(0)
    model = tiny_model()
    split = random_split(16, 5)
    from pipeline.inputs.device_data import to_model_input
    x, y = to_model_input(split.images), split.labels
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = CrossEntropy()
    model.eval()  # no dropout noise: compare the same function before and after
    with torch.no_grad():
        before = loss_fn(model(x), y)["loss"].item()
    for _ in range(15):
        model.train()
        loss = loss_fn(model(x), y)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        after = loss_fn(model(x), y)["loss"].item()
    assert after < before


def _final(result):
    return result.scalars(), {k: v.clone() for k, v in result.model.state_dict().items()}


@pytest.fixture(scope="module")
def uninterrupted(splits):
    train, val, test = splits
    logged = []
    return fit(tiny_model, train, val, CONFIG, CrossEntropy(), test=test, on_epoch=logged.append), logged


@pytest.mark.parametrize("kill_at", [(1, 0), (1, 2), (2, 3)])
def test_killed_run_resumes_to_the_same_result(splits, uninterrupted, tmp_path, kill_at):
    """Killed at (epoch, step) with 0-based numbers; resuming must give bit-identical weights and metrics."""
    train, val, test = splits
    plain, logged_plain = uninterrupted
    ckpt = tmp_path / "seed3.pt"
    with pytest.raises(Crash):
        fit(tiny_model, train, val, CONFIG, CrossEntropy(), test=test, checkpoint=ckpt,
            on_step=crash_at(*kill_at))
    state = load_checkpoint(ckpt, torch.load(ckpt, weights_only=True)["fingerprint"])
    assert state["epoch"] == kill_at[0] and not state["complete"]
    logged_resumed, steps_run = [], []
    resumed = fit(tiny_model, train, val, CONFIG, CrossEntropy(), test=test, checkpoint=ckpt,
                  on_epoch=logged_resumed.append, on_step=lambda e, s: steps_run.append((e, s)))
    assert steps_run[0] == (kill_at[0], 0)  # really resumed: the finished epochs were not retrained
    plain_scalars, plain_weights = _final(plain)
    resumed_scalars, resumed_weights = _final(resumed)
    for key in ("val_acc", "val_loss", "test_acc", "test_loss", "best_epoch", "epochs_run"):
        assert resumed_scalars[key] == plain_scalars[key], key
    for name, tensor in plain_weights.items():
        assert torch.equal(tensor, resumed_weights[name]), name
    def never(e, s):
        raise AssertionError("a finished run must not train again")

    again = fit(tiny_model, train, val, CONFIG, CrossEntropy(), test=test, checkpoint=ckpt, on_step=never)
    assert again.scalars() == resumed_scalars
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in logged_plain]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in logged_resumed] == strip


def test_checkpoint_of_another_config_is_ignored(splits, tmp_path):
    train, val, _ = splits
    ckpt = tmp_path / "seed3.pt"
    with pytest.raises(Crash):
        fit(tiny_model, train, val, CONFIG, CrossEntropy(), checkpoint=ckpt, on_step=crash_at(1, 0))
    other = train_config(**{**CONFIG.__dict__, "lr": 0.01})
    resumed_from = []
    fit(tiny_model, train, val, other, CrossEntropy(), checkpoint=ckpt, on_epoch=resumed_from.append,
        on_step=lambda e, s: resumed_from.append(("step", e, s)) if s == 0 else None)
    assert resumed_from[0] == ("step", 0, 0)  # started from epoch 0, not from the stale checkpoint


class Payload:
    """An arbitrary class: unpickling it would run code a checkpoint must never carry."""


def test_checkpoint_with_pickled_object_is_refused(splits, tmp_path):
    train, val, _ = splits
    ckpt = tmp_path / "seed3.pt"
    torch.save({"fingerprint": "x", "payload": Payload()}, ckpt)
    with pytest.raises(RuntimeError, match="weights_only"):
        fit(tiny_model, train, val, CONFIG, CrossEntropy(), checkpoint=ckpt)
    assert isinstance(pickle.loads(pickle.dumps(Payload())), Payload)  # the file itself was valid pickle


def test_nan_loss_stops_with_epoch_and_step(splits):
    train, val, _ = splits

    class NanOnSecondEpochThirdStep(CrossEntropy):
        calls = 0  # 50 samples / batch 16 -> 4 steps per epoch (16, 16, 16, 2)

        def forward(self, logits, labels, idx=None, flip=None):
            loss = super().forward(logits, labels)["loss"]
            type(self).calls += 1
            return {"loss": loss * float("nan") if self.calls == 4 + 3 else loss}

    with pytest.raises(RuntimeError, match=r"run-x \(seed 3\).*epoch 2, step 3"):
        fit(tiny_model, train, val, CONFIG, NanOnSecondEpochThirdStep(), run="run-x")


def test_early_stopping_stops_before_the_epoch_budget(splits):
    train, val, _ = splits
    config = train_config(**{**CONFIG.__dict__, "epochs": 12, "early_stopping_patience": 1, "lr": 0.0})
    result = fit(tiny_model, train, val, config, CrossEntropy())
    best, stale, expected_stop = -1.0, 0, config.epochs
    for record in result.history:
        best, stale = (record["val_acc"], 0) if record["val_acc"] > best else (best, stale + 1)
        if stale >= 1:
            expected_stop = record["epoch"]
            break
    assert result.epochs_run == expected_stop < config.epochs  # lr 0: accuracy soon stops improving


KILLABLE_RUN = """
import json, logging, sys, time
logging.basicConfig(level=logging.INFO)
from pipeline.training.checkpoint import array_digest
from pipeline.training.losses import CrossEntropy
from pipeline.training.trainer import fit
from tests.fixtures_training import INPUT_SIZE, random_split, tiny_model, train_config

checkpoint, out, slow = sys.argv[1], sys.argv[2], sys.argv[3] == "slow"
config = train_config(epochs=3, batch_size=16, lr=0.05, input_size=INPUT_SIZE, seed=5)
result = fit(tiny_model, random_split(50, 0), random_split(20, 1), config, CrossEntropy(),
             test=random_split(20, 2), checkpoint=checkpoint,
             on_step=(lambda e, s: time.sleep(0.5 if e >= 1 else 0)) if slow else None)
weights = array_digest(*[v for _, v in sorted(result.model.state_dict().items())])
json.dump({**result.scalars(), "epoch_seconds": 0, "train_images_per_second": 0, "weights": weights}, open(out, "w"))
"""


@pytest.mark.long
def test_process_killed_with_sigkill_resumes_to_the_same_result(tmp_path, repo_root):
    """A real kill -9 after the first epoch's checkpoint; the rerun must match an uninterrupted run."""
    import json
    import signal
    import subprocess
    import sys
    import time

    import os

    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    script = tmp_path / "run.py"
    script.write_text(KILLABLE_RUN)
    env_cmd = [sys.executable, str(script)]
    ckpt = tmp_path / "ckpt" / "seed5.pt"
    proc = subprocess.Popen(env_cmd + [str(ckpt), str(tmp_path / "killed.json"), "slow"], cwd=repo_root, env=env)
    deadline = time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ckpt.exists() and proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed.json").exists()
    rerun = subprocess.run(env_cmd + [str(ckpt), str(tmp_path / "resumed.json"), "fast"], cwd=repo_root, env=env,
                           check=True, capture_output=True, text=True)
    assert "resuming after epoch" in rerun.stderr
    subprocess.run(env_cmd + [str(tmp_path / "fresh" / "seed5.pt"), str(tmp_path / "fresh.json"), "fast"],
                   cwd=repo_root, env=env, check=True)
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    fresh = json.loads((tmp_path / "fresh.json").read_text())
    assert resumed == fresh
