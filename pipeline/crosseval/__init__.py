"""Scoring an exported model on a folder of labelled face images (CK+, JAFFE, a team's own stills).

``evaluate-folder`` (cli.py) and the ``cross_evaluate`` stage share everything here: the folder
reader with its class-name alias table (folder.py) and the scoring (score.py).
"""

from pipeline.crosseval.aliases import ALIASES, canonical_class
from pipeline.crosseval.folder import LabelledFolder, read_folder
from pipeline.crosseval.score import score_folder, write_scores

__all__ = ["ALIASES", "LabelledFolder", "canonical_class", "read_folder", "score_folder", "write_scores"]
