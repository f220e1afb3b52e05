"""params train.portable_kernels: every stage process holds its CPU kernels to AVX2, which gives the same bytes as
the same work with the pins set by hand (how another x86-64 CPU without AVX-512 computes)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch
import yaml

from tests.helpers import REPO_ROOT, subprocess_env

# A stage in miniature: run_stage(main), where main trains a small conv net for a few steps and prints the
# kernel level and a digest of the weights.
STAGE = textwrap.dedent("""
    import hashlib, sys
    sys.path.insert(0, {root!r})
    from pipeline.core.stage import run_stage

    def main(argv):
        import torch
        from pipeline.models import build_model
        torch.manual_seed(0)
        model = build_model({{"family": "resemotenet", "width": 0.0625, "se_reduction": 1}}, 7)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(16, 3, 32, 32), torch.randint(0, 7, (16,))
        for _ in range(3):
            opt.zero_grad(); torch.nn.functional.cross_entropy(model(x), y).backward(); opt.step()
        digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model.parameters())).hexdigest()
        print(torch.backends.cpu.get_cpu_capability(), digest)

    run_stage(main)
""")


def run_stage_script(cwd, portable: bool, env_pins: dict[str, str] | None = None, threads: int = 1,
                     one_core: bool = False) -> tuple[str, str]:
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["train"]["portable_kernels"] = portable
    (cwd / "params.yaml").write_text(yaml.safe_dump(params))
    (cwd / "stage.py").write_text(STAGE.format(root=str(REPO_ROOT)))
    env = {**subprocess_env(), "OMP_NUM_THREADS": str(threads), **(env_pins or {})}
    for key in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR"):
        if not env_pins or key not in env_pins:
            env.pop(key, None)
    core = {min(os.sched_getaffinity(0))}
    done = subprocess.run([sys.executable, "stage.py"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          preexec_fn=(lambda: os.sched_setaffinity(0, core)) if one_core else None)
    assert done.returncode == 0, done.stderr
    level, digest = done.stdout.split()
    return level, digest


@pytest.mark.long  # trains twice with the kernels pinned
@pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"), reason="needs an AVX2 x86 CPU")
def test_portable_kernels_pin_avx2_and_match_the_pins_set_by_hand(tmp_path):
    from pipeline.core.devices import PORTABLE_KERNELS, PORTABLE_THREADS

    pinned_level, pinned = run_stage_script(tmp_path, portable=True)
    assert pinned_level == "AVX2"
    by_hand_level, by_hand = run_stage_script(tmp_path, portable=False, env_pins=PORTABLE_KERNELS,
                                              threads=PORTABLE_THREADS)
    assert (by_hand_level, by_hand) == ("AVX2", pinned)
    # A machine with another core count (here one core, the environment asking for 3 threads) gives the same bits:
    assert run_stage_script(tmp_path, portable=True, threads=3, one_core=True) == (pinned_level, pinned)
    default_level, default = run_stage_script(tmp_path, portable=False)
    assert default_level == torch.backends.cpu.get_cpu_capability()
    if default_level == "AVX512":  # the kernels really changed: so did the bits
        assert default != pinned


def test_portable_kernels_is_a_checked_param():
    from pipeline.core.params import ParamsError
    from pipeline.params.load import check_params

    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    assert params["train"]["portable_kernels"] is False  # opt-in: 2.6-3x the step time on an AVX-512 Xeon
    params["train"]["portable_kernels"] = "yes"
    with pytest.raises(ParamsError, match="train.portable_kernels"):
        check_params(params)
