"""Folder names -> the class names models carry (FER2013's seven, plus FER+'s contempt).

Datasets name their classes differently (CK+ ``anger``/``sadness``, JAFFE's two-letter codes,
AffectNet ``happiness``); this table is the one place the mapping lives. Matching ignores case,
spaces, hyphens and underscores, and a leading number with a separator (``3_happy``, ``03-fear``).
"""

from __future__ import annotations

import re

ALIASES: dict[str, str] = {
    # angry
    "angry": "angry", "anger": "angry", "an": "angry", "ang": "angry", "mad": "angry",
    # disgust
    "disgust": "disgust", "disgusted": "disgust", "di": "disgust", "dis": "disgust",
    # fear
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear", "fe": "fear",
    # happy
    "happy": "happy", "happiness": "happy", "joy": "happy", "ha": "happy", "hap": "happy",
    # sad
    "sad": "sad", "sadness": "sad", "sa": "sad",
    # surprise
    "surprise": "surprise", "surprised": "surprise", "su": "surprise", "sur": "surprise",
    # neutral
    "neutral": "neutral", "neutrality": "neutral", "calm": "neutral", "ne": "neutral", "neu": "neutral",
    # contempt (FER+, CK+; a 7-class model lacks it)
    "contempt": "contempt", "contemptuous": "contempt", "co": "contempt",
}

_PREFIX = re.compile(r"^\d+[_\-. ]+")


def canonical_class(folder_name: str) -> str | None:
    """The class a folder name stands for, or None when the table has no entry for it."""
    key = _PREFIX.sub("", folder_name.strip().lower())
    key = re.sub(r"[\s_\-]+", "", key)
    return ALIASES.get(key)
