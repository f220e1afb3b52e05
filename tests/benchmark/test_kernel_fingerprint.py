"""benchmarks/kernel_fingerprint.py: a setting fingerprinted twice on one machine gives the same bits in every op
(else comparing two machines' files would say nothing), and ``--against`` names the op whose bits differ."""

from __future__ import annotations

import json
import sys

from tests.helpers import REPO_ROOT, run

SETTING = "portable (AVX2, 2 threads)"


def fingerprint(tmp_path, name: str, *extra: str) -> tuple[dict, str]:
    out = tmp_path / f"{name}.json"
    done = run([sys.executable, "benchmarks/kernel_fingerprint.py", "--settings", SETTING, "--out", str(out), *extra],
               REPO_ROOT, timeout=300)
    return json.loads(out.read_text()), done.stdout


def test_the_same_setting_twice_matches_and_a_changed_op_is_named(tmp_path):
    first, _ = fingerprint(tmp_path, "first")
    ops = first["settings"][SETTING]["ops"]
    assert first["settings"][SETTING]["capability"] in ("AVX2", "DEFAULT")  # the pins reached the child
    assert {"conv 3x3 32->64 backward", "student C, 3 SGD steps", "dropout mask (seeded)"} <= set(ops)
    ran = first["settings"][SETTING]["onednn_implementations"]  # what oneDNN chose, to compare between CPUs
    assert any(impl.startswith("convolution ") and ":avx2 " in impl for impl in ran), ran
    _, same = fingerprint(tmp_path, "second", "--against", str(tmp_path / "first.json"))
    assert f"{SETTING}: same bits in every op" in same, same

    tampered = json.loads(json.dumps(first))
    tampered["settings"][SETTING]["ops"]["linear 512->7 backward"]["sha"] = "0" * 16
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    _, differ = fingerprint(tmp_path, "third", "--against", str(tmp_path / "tampered.json"))
    assert f"{SETTING}: 1 of {len(ops)} ops differ" in differ and "linear 512->7 backward: sum" in differ, differ
