"""Which CPU kernels compute the same bits on two machines: a digest of every op a training step uses, under each
candidate kernel setting, written per CPU so that two machines' files can be compared.

    uv run python benchmarks/kernel_fingerprint.py                  # writes reports/kernel_fingerprints/<cpu>.json
    uv run python benchmarks/kernel_fingerprint.py --against reports/kernel_fingerprints/amd-epyc.json

`train.portable_kernels` (AVX2 kernels, 2 threads) gave the same bytes on one Xeon emulating another CPU, but not
on a real AMD EPYC against the Xeon (docs/reproducibility.md, "Across CPUs"). One machine cannot say which kernel
parts with the other: each run of this script records, on its own CPU and under each setting in ``SETTINGS`` (each
in a fresh process: the kernel variables are read when the first kernel runs), a digest of each op (convolutions,
batch norm, linear layers, the distillation loss, forward and backward; a seeded dropout mask), of student C after
1 and 3 SGD steps, the oneDNN implementations that ran, and the time of one student C step (a hint of the cost).
Inputs and initial weights come from NumPy's PCG64, whose bits do not depend on the CPU (torch's own random fills
are vectorised per ISA). Commit the file; on the other machine ``--against`` prints, per setting, the ops whose
bits differ and the oneDNN implementations only one machine ran: a setting under which nothing differs is one
that makes training portable between the two.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.devices import PORTABLE_KERNELS, PORTABLE_THREADS, cpu_model

ROOT = Path(__file__).resolve().parents[1]

AVX2 = PORTABLE_KERNELS  # what train.portable_kernels sets (with PORTABLE_THREADS intra-op threads)
# MKL documents COMPATIBLE (SSE2 code) as its branch for the same results on Intel and non-Intel CPUs; oneDNN and
# NNPACK may pick their blocking from the CPU's cache sizes, so the last two settings leave both out.
AVX2_MKL_COMPATIBLE = {**AVX2, "MKL_CBWR": "COMPATIBLE"}


@dataclass(frozen=True)
class Setting:
    env: dict
    onednn: bool = True
    nnpack: bool = True
    threads: int = PORTABLE_THREADS


SETTINGS = {
    "native": Setting({}),
    "portable (AVX2, 2 threads)": Setting(AVX2),
    "AVX2, no oneDNN, 2 threads": Setting(AVX2, onednn=False),
    "AVX2, no oneDNN, 1 thread": Setting(AVX2, onednn=False, threads=1),
    "AVX2 strict MKL, no oneDNN, 1 thread": Setting({**AVX2, "MKL_CBWR": "AVX2,STRICT"}, onednn=False, threads=1),
    "AVX2, MKL compatible, no oneDNN or NNPACK, 2 threads": Setting(AVX2_MKL_COMPATIBLE, onednn=False, nnpack=False),
    "no SIMD in ATen, MKL compatible, no oneDNN or NNPACK, 2 threads": Setting(
        {**AVX2_MKL_COMPATIBLE, "ATEN_CPU_CAPABILITY": "default"}, onednn=False, nnpack=False),
}
OUT_DIR = ROOT / "reports" / "kernel_fingerprints"


def digest(*tensors) -> dict:
    """The tensors' bytes hashed, and their float64 sum (how far two digests that differ lie apart)."""
    h = hashlib.sha256()
    total = 0.0
    for t in tensors:
        a = t.detach().contiguous().numpy()
        h.update(a.tobytes())
        total += float(a.astype("float64").sum())
    return {"sha": h.hexdigest()[:16], "sum": repr(total)}


def fingerprint(setting: Setting) -> dict:
    """Every op's digest in this process (its kernel variables already set)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from pipeline.models import build_model

    torch.set_num_threads(setting.threads)
    torch.backends.mkldnn.enabled = setting.onednn
    torch.backends.nnpack.set_flags(setting.nnpack)
    rng = np.random.default_rng(0)

    def rand(*shape, scale=1.0):
        return torch.from_numpy((rng.standard_normal(shape) * scale).astype(np.float32)).requires_grad_()

    out = {}

    def fwd_bwd(name, fn, *inputs):
        y = fn(*inputs)
        g = torch.from_numpy(rng.standard_normal(tuple(y.shape)).astype(np.float32))
        grads = torch.autograd.grad(y, inputs, g)
        out[f"{name} forward"] = digest(y)
        out[f"{name} backward"] = digest(*grads)

    fwd_bwd("conv 3x3 32->64", lambda x, w, b: F.conv2d(x, w, b, padding=1), rand(64, 32, 32, 32), rand(64, 32, 3, 3, scale=0.1),
            rand(64))
    fwd_bwd("conv 3x3 3->16 (stem)", lambda x, w: F.conv2d(x, w, padding=1), rand(64, 3, 32, 32), rand(16, 3, 3, 3, scale=0.3))
    fwd_bwd("conv 1x1 stride 2", lambda x, w: F.conv2d(x, w, stride=2), rand(64, 32, 16, 16), rand(64, 32, 1, 1, scale=0.2))
    fwd_bwd("batch norm (train)", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), rand(64, 32, 16, 16),
            rand(32), rand(32))
    fwd_bwd("linear 512->7", lambda x, w, b: F.linear(x, w, b), rand(64, 512), rand(7, 512, scale=0.05), rand(7))
    weights = torch.from_numpy(rng.uniform(0.5, 2, 7).astype(np.float32))
    labels = torch.from_numpy(rng.integers(0, 7, 64))
    teacher = torch.from_numpy(rng.standard_normal((64, 7)).astype(np.float32))
    fwd_bwd("distillation loss", lambda s: F.cross_entropy(s, labels, weight=weights) + 0.2 * 9 * F.kl_div(
        F.log_softmax(s / 3, 1), F.softmax(teacher / 3, 1), reduction="batchmean"), rand(64, 7))

    torch.manual_seed(0)  # dropout's masks: torch's generator, as training seeds it
    out["dropout mask (seeded)"] = digest(F.dropout(torch.ones(64, 256), 0.5, training=True))
    model = build_model({"family": "resemotenet", "width": 0.125, "se_reduction": 1}, 7)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.05).astype(np.float32)))
    x = torch.from_numpy(rng.standard_normal((64, 3, 32, 32)).astype(np.float32))
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    torch.manual_seed(0)
    step_s = []
    for step in range(1, 4):
        started = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(model(x), labels, weight=weights).backward()
        opt.step()
        step_s.append(time.perf_counter() - started)
        if step in (1, 3):
            out[f"student C, {step} SGD step{'s' if step > 1 else ''}"] = digest(*model.parameters())
    return {"capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
            "onednn": torch.backends.mkldnn.enabled, "nnpack": setting.nnpack,
            "student_c_step_ms": round(1000 * min(step_s[1:]), 1), "ops": out}  # timing: a cost hint, not compared


def run_setting(name: str) -> dict:
    """One setting's fingerprint, from a fresh process, with the oneDNN implementations it ran (ONEDNN_VERBOSE:
    the same implementations with other bits point at blocking chosen from the CPU, other ones at selection)."""
    env = {k: v for k, v in os.environ.items() if k not in AVX2} | SETTINGS[name].env | {"ONEDNN_VERBOSE": "1"}
    done = subprocess.run([sys.executable, __file__, "--child", name], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"setting {name!r} failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    ran = {" ".join(line.split(",")[5:8]) for line in lines if line.startswith("onednn_verbose,v1,primitive,exec,")}
    return {**json.loads(lines[-1]), "onednn_implementations": sorted(ran)}


def cpu_slug(cpu: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", re.sub(r"\(r\)|\(tm\)|processor|cpu", "", cpu.lower())).strip("-")


def compare(mine: dict, theirs: dict) -> None:
    """Print, per setting, the ops whose bits differ between the two files and the oneDNN implementations only one
    of them ran."""
    print(f"this machine: {mine['cpu']} | the other: {theirs['cpu']} ({theirs.get('date')}, {theirs.get('torch')})")
    for name, result in mine["settings"].items():
        other = theirs["settings"].get(name)
        if other is None:
            print(f"  {name}: not in the other file")
            continue
        differ = [op for op, d in result["ops"].items() if other["ops"].get(op, {}).get("sha") != d["sha"]]
        verdict = "same bits in every op" if not differ else f"{len(differ)} of {len(result['ops'])} ops differ"
        print(f"  {name}: {verdict}")
        for op in differ:
            print(f"      {op}: sum {result['ops'][op]['sum']} here, {other['ops'].get(op, {}).get('sum')} there")
        here, there = set(result.get("onednn_implementations", [])), set(other.get("onednn_implementations", []))
        if here != there:
            print(f"      oneDNN ran here only: {', '.join(sorted(here - there)) or '-'}; "
                  f"there only: {', '.join(sorted(there - here)) or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="default: reports/kernel_fingerprints/<this CPU>.json")
    parser.add_argument("--against", type=Path, help="another machine's file: print the ops whose bits differ")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS), metavar="NAME",
                        help=f"the settings to fingerprint (default: all: {'; '.join(SETTINGS)})")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(fingerprint(SETTINGS[args.child])))
        return

    import torch

    from pipeline.core.atomic import write_json

    theirs = None
    if args.against:  # refused before the settings run, not after
        try:
            theirs = json.loads(args.against.read_text())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"--against {args.against}: not a fingerprint file ({exc})") from None
    cpu = cpu_model()
    record = {"cpu": cpu, "cpu_count": os.cpu_count(), "torch": torch.__version__, "date": datetime.date.today().isoformat(),
              "command": "uv run python benchmarks/kernel_fingerprint.py",
              "settings": {name: run_setting(name) for name in args.settings}}
    out = args.out or OUT_DIR / f"{cpu_slug(cpu)}.json"
    if args.against and args.against.resolve() == out.resolve():  # the same CPU kind: keep the committed file
        out = ROOT / ".cache" / "kernel_fingerprints" / out.name
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, record)
    print(f"wrote {out}")
    if theirs is not None:
        compare(record, theirs)


if __name__ == "__main__":
    main()
