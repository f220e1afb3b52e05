"""Folder names -> the class names models carry: every data source's classes, its own aliases, and others' words.

A source's class names and the names its files use (FER+'s vote columns: ``happiness``) come from its
module (pipeline/sources); here are only the words of datasets that are no source of ours (CK+
``anger``/``sadness``, JAFFE's two-letter codes, AffectNet ``happiness``). Matching ignores case, spaces,
hyphens and underscores, and a leading number with a separator (``3_happy``, ``03-fear``).
"""

from __future__ import annotations

import re
from functools import cache

from pipeline.sources.registry import sources

# Words other datasets and plain English use, by the class they mean.
OTHER_WORDS: dict[str, str] = {
    "anger": "angry", "an": "angry", "ang": "angry", "mad": "angry",
    "disgusted": "disgust", "di": "disgust", "dis": "disgust",
    "fearful": "fear", "afraid": "fear", "scared": "fear", "fe": "fear",
    "happiness": "happy", "joy": "happy", "ha": "happy", "hap": "happy",
    "sadness": "sad", "sa": "sad",
    "surprised": "surprise", "su": "surprise", "sur": "surprise",
    "neutrality": "neutral", "calm": "neutral", "ne": "neutral", "neu": "neutral",
    "contemptuous": "contempt", "co": "contempt",  # CK+; a 7-class model lacks contempt
}

_PREFIX = re.compile(r"^\d+[_\-. ]+")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", _PREFIX.sub("", name.strip().lower()))


@cache
def alias_table() -> dict[str, str]:
    """The whole table: each source's class names and aliases, then :data:`OTHER_WORDS`; a word two of them
    map to different classes is a ValueError naming both."""
    table: dict[str, str] = {}
    named = [(f"source {s.name}", {**{c: c for c in s.class_names}, **s.aliases}) for s in sources().values()]
    for where, words in [*named, ("OTHER_WORDS", OTHER_WORDS)]:
        for word, cls in words.items():
            key = _key(word)
            if table.setdefault(key, cls) != cls:
                raise ValueError(f"folder name {word!r}: {where} says {cls!r}, an earlier entry {table[key]!r}")
    return table


def canonical_class(folder_name: str) -> str | None:
    """The class a folder name stands for, or None when the table has no entry for it."""
    return alias_table().get(_key(folder_name))
