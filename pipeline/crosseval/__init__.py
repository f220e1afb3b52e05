"""Scoring an exported model on a folder of labelled face images (CK+, JAFFE, a team's own stills).

``evaluate-folder`` (cli.py) and the ``cross_evaluate`` stage share everything here: the folder
reader with its class-name alias table (folder.py) and the scoring (score.py). The names load on first
use (PEP 562): a folder the reader refuses is reported before the scoring's torch and scikit-learn load.
"""

from importlib import import_module

_HOMES = {"alias_table": "aliases", "canonical_class": "aliases", "LabelledFolder": "folder", "read_folder": "folder",
          "score_folder": "score", "write_scores": "score"}
__all__ = list(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
