"""Training throughput (images/s) of the teacher and each student through the real trainer step.

    uv run python benchmarks/train_throughput.py                       # 64x64, batch 16
    uv run python benchmarks/train_throughput.py --input-size 32 --batch 32 --models student_c

Each step is exactly the trainer's: gather uint8 images resident on the device by index, flip,
normalise, forward, loss, backward, SGD step (pipeline.training.trainer.train_step). Prints time per
step like nanoGPT, then one summary line per model.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from pipeline.benchmark.speed import sync
from pipeline.core.devices import device_name, resolve_device
from pipeline.inputs.device_data import DeviceSplit
from pipeline.models import build_model, count_parameters
from pipeline.training.losses import CrossEntropy
from pipeline.training.trainer import train_step

# The teacher trains at ~10 img/s at 64x64 on 2 CPU cores: keep its default run short there.
CPU_TEACHER_STEPS = 3


def measure(name: str, spec: dict, device: torch.device, input_size: int, batch: int, steps: int, warmup: int,
            bf16: bool, compile_model: bool, verbose: bool = True) -> dict:
    rng = np.random.default_rng(0)
    n = batch * 8
    split = DeviceSplit.from_arrays(rng.integers(0, 256, (n, 48, 48), dtype=np.uint8), rng.integers(0, 7, n),
                                    input_size, device)
    torch.manual_seed(0)
    model = build_model(spec, 7).to(device).train()
    if compile_model:
        model.compile()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-4)
    loss_fn = CrossEntropy().bind(device=device)
    generator = torch.Generator(device=device).manual_seed(0)
    step_times = []
    for step in range(warmup + steps):
        idx = torch.randint(0, n, (batch,), generator=generator, device=device)
        flip = torch.rand(batch, generator=generator, device=device) < 0.5
        sync(device)
        started = time.perf_counter()
        loss, _ = train_step(model, optimizer, loss_fn, split, idx, flip, bf16)
        loss_value = loss["loss"].item()  # syncs
        elapsed = time.perf_counter() - started
        if step >= warmup:
            step_times.append(elapsed)
        if verbose:
            tag = "warmup" if step < warmup else "step"
            print(f"  {name} {tag} {step}: loss {loss_value:.4f}, time {elapsed * 1000:.1f}ms")
    per_step = float(np.median(step_times))
    return {"model": name, "params": count_parameters(model), "input_size": input_size, "batch": batch,
            "steps": steps, "ms_per_step": per_step * 1000, "images_per_second": batch / per_step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per student")
    parser.add_argument("--teacher-steps", type=int, default=None,
                        help=f"timed steps for the teacher (default: --steps, or {CPU_TEACHER_STEPS} on CPU)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--models", nargs="*", default=None, help="names from params.yaml models (default: all)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (1 gives steadier numbers on a busy machine)")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="summary lines only")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    specs = yaml.safe_load(args.params.read_text())["models"]
    names = args.models or list(specs)
    device = resolve_device(args.device)
    print(f"device: {device_name(device)} | torch {torch.__version__} | threads {torch.get_num_threads()} | "
          f"input {args.input_size}x{args.input_size} | batch {args.batch} | bf16 {args.bf16} | compile {args.compile}")
    rows = []
    for name in names:
        steps = args.steps
        if name == "teacher":
            steps = args.teacher_steps or (CPU_TEACHER_STEPS if device.type == "cpu" else args.steps)
        rows.append(measure(name, specs[name], device, args.input_size, args.batch, steps, args.warmup,
                            args.bf16, args.compile, verbose=not args.quiet))
    print(f"{'model':<10} {'params':>12} {'ms/step':>9} {'img/s':>9}")
    for row in rows:
        print(f"{row['model']:<10} {row['params']:>12,} {row['ms_per_step']:>9.1f} {row['images_per_second']:>9.1f}")


if __name__ == "__main__":
    main()
