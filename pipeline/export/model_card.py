"""A short model card beside each exported file: what it was trained on, how well, what it is for
and where it fails. Written for the UX researcher who meets the file without the pipeline."""

from __future__ import annotations

from pipeline.export.metadata import ExportMeta

LIMITS = """\
- Trained on posed, frontal, 48x48 grayscale faces (FER2013-style). Natural expressions during
  real product use are subtler and mixed; expect lower accuracy than the test figure above.
- Talking moves the mouth: speech frames are often read as surprise, fear or anger.
- A face concentrating on a screen (frown, squint, raised brows) is often read as angry or sad:
  compare with the participant's own baseline before calling anything frustration.
- Side views, glasses glare, strong backlight and low resolution (face < ~48 px) degrade it; the
  analyser marks instants without a detected face instead of guessing.
- Seven FER2013 classes only; no contempt, confusion or boredom. Probabilities are not calibrated
  feelings: read trends and changes, not single values."""


def _fmt(value, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "n/a" if value is None else str(value)


def _input_text(meta: ExportMeta) -> str:
    if meta.image_mode == "rgb":
        return f"RGB face crop (channels R, G, B) in [0, 1]"
    return f"grayscale face crop in [0, 1], repeated to {meta.channels} channels"


def model_card(name: str, meta: ExportMeta, file_name: str, sha256: str, parity_max_abs_diff: float) -> str:
    """Markdown text of the card for run ``name``."""
    x = meta.extra
    warning = ""
    if meta.synthetic:
        warning = ("\n> **WARNING: trained on generated (synthetic) data.** This file demonstrates the mechanics of "
                   "the pipeline; its outputs say nothing about real emotions. Train on FER2013 first "
                   "(README, \"Real data\").\n")
    test_acc = x.get("test_acc")
    acc = f"{test_acc:.2%}" if isinstance(test_acc, (int, float)) else "n/a"
    if isinstance(x.get("test_acc_std"), (int, float)) and len(x.get("seeds") or []) > 1:
        acc += f" ± {x['test_acc_std']:.2%} over seeds {x['seeds']}"
    return f"""# Model card: {name}
{warning}
| | |
|---|---|
| File | `{file_name}` (sha256 `{sha256[:16]}…`) |
| Architecture | {_fmt(x.get('model'))} ({_fmt(x.get('params'))} parameters), training kind `{_fmt(x.get('kind'))}` |
| Distillation | T = {_fmt(x.get('T'))}, alpha = {_fmt(x.get('alpha'))} |
| Training data | `{meta.data_source}` |
| Test accuracy | {acc} (test split of the training data) |
| Checkpoint | md5 `{_fmt(x.get('checkpoint_md5') or x.get('git_commit'))}` (DVC's hash of model.pt in dvc.lock: `git log -S <md5> dvc.lock` finds its commit) |
| Input | `{meta.input_name}`: float32 (batch, {meta.channels}, {meta.input_size}, {meta.input_size}); {_input_text(meta)}, minus mean {list(meta.mean)}, divided by std {list(meta.std)} |
| Output | `{meta.output_name}`: (batch, {len(meta.class_names)}) logits over {', '.join(meta.class_names)} (softmax for probabilities) |
| Parity | max abs logit difference vs PyTorch {parity_max_abs_diff:.2e} |

## Intended use
Offline analysis of usability-test recordings (`uv run analyze`): a timeline of expression
probabilities per task, to point a researcher at moments worth re-watching. Not for judging
individuals, hiring, security, or any decision about a person without their review.

## Limits
{LIMITS}
"""
