"""Model export: any image classifier to ONNX with the metadata a consumer needs, a parity check
against PyTorch, and a model card. Generic over ``nn.Module`` so new families need nothing here."""

from pipeline.export.metadata import ExportMeta, read_meta
from pipeline.export.onnx_export import export_onnx
from pipeline.export.parity import check_parity
from pipeline.export.model_card import model_card
from pipeline.core.gitinfo import git_commit  # re-exported: the export stage records it
from pipeline.export.bundle import export_bundle

__all__ = ["ExportMeta", "read_meta", "export_onnx", "check_parity", "model_card", "export_bundle", "git_commit"]
