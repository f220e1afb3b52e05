"""Model export: any image classifier to ONNX with the metadata a consumer needs, a parity check
against PyTorch, and a model card. Generic over ``nn.Module`` so new families need nothing here.

The names below load on first use (PEP 562): ``analyze`` and ``evaluate-folder`` import the ONNX classifier
and the ``--model`` lookup from this package and never need torch, whose import costs ~2 s per start."""

from importlib import import_module

_HOMES = {"ExportMeta": "metadata", "read_meta": "metadata", "export_onnx": "onnx_export", "check_parity": "parity",
          "model_card": "model_card", "export_bundle": "bundle", "git_commit": "pipeline.core.gitinfo"}
__all__ = list(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = _HOMES[name]
    value = getattr(import_module(home if "." in home else f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
