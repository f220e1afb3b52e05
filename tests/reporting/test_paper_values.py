"""The paper's values as pipeline.reporting.paper holds them, checked against the paper's full text."""

from __future__ import annotations

import re

import pytest

from pipeline.reporting import paper
from tests.reporting.fixtures import PAPER_TEXT


@pytest.fixture(scope="module")
def text() -> str:
    if not PAPER_TEXT.exists():
        pytest.skip(f"the paper's text is not at {PAPER_TEXT}")
    return PAPER_TEXT.read_text()


def _line(text: str, *tokens: str) -> str:
    """The first line of the text holding every token (tab-separated cells, as extracted)."""
    for line in text.splitlines():
        if all(t in line for t in tokens):
            return line
    raise AssertionError(f"no line of the paper holds {tokens}")


def test_headline_values_match_the_text(text):
    e4 = next(r for r in paper.TABLE_IV["FER2013"] if r.run == "E4")
    assert e4.accuracy.value == 70.20 and "Table IV" in e4.accuracy.source
    _line(text, "E4: Student Model B", "3", "0.15", "70.20", "0.9659")
    rafdb_teacher = paper.TABLE_IV["RAF-DB"][0]
    assert rafdb_teacher.run == "teacher" and rafdb_teacher.accuracy.value == 94.76
    _line(text, "Accuracy (%)", "94.76", "85.00", "82.45")
    assert paper.TABLE_V["FER2013"]["memory_mb"]["teacher"].value == 10102.94
    _line(text, "Memory Usage (MB)", "10102.94", "5088.46", "1814.97")
    poster = paper.TABLE_I[0]
    assert poster.name == "POSTER++ [5]" and poster.params.value == 58_316_594
    _line(text, "POSTER++ [5]", "233.27", "58,316,594")


def test_every_table_i_and_iv_row_is_printed(text):
    for row in paper.TABLE_I:
        _line(text, row.name.split(" [")[0], f"{row.size_mb.value:.2f}", f"{row.params.value:,}")
    for rows in paper.TABLE_IV.values():
        for row in rows:
            if row.run != "teacher":
                _line(text, row.label, f"{row.alpha:.2f}", f"{row.accuracy.value:.2f}",
                      f"{row.loss.value:.{row.loss.digits}f}")
    table4 = text[text.index("TABLE IV.\tTHE EXPERIMENTAL RESULTS"):]
    fer, raf = (re.search(rf"Teacher Model\t-\t-\t{r[0].accuracy.value:.2f}\t{r[0].loss.value:.{r[0].loss.digits}f}", table4)
                for r in (paper.TABLE_IV["FER2013"], paper.TABLE_IV["RAF-DB"]))
    assert fer and raf and fer.start() < table4.index("\nRAF-DB\t") < raf.start()


def test_table_ii_and_vi_match_the_text(text):
    for arch in paper.TABLE_II.values():
        _line(text, arch.label, f"{arch.params.value:,}")
    for row in paper.TABLE_VI:
        for ref in (row.fer2013, row.rafdb):
            if ref.found:
                assert f"{ref.value:.2f}".rstrip("0") in text


def test_contradictions_keep_both_values():
    assert paper.TEXT_E1_FER2013.value == 76.33 and paper.TABLE_IV["FER2013"][1].accuracy.value == 76.42
    assert paper.TEXT_RAFDB["E1"].value == 84.21 and paper.TABLE_IV["RAF-DB"][1].accuracy.value == 85.00
    assert paper.TABLE_I[-1].size_mb.value == 320.95 and paper.TABLE_V_SIZE["teacher"].value == 306.09
    assert round(80_238_599 * 4 / 1e6, 2) == 320.95 and round(80_238_599 * 4 / 2**20, 2) == 306.09


def test_table_iii_totals_add_up():
    for dataset, columns in paper.TABLE_III.items():
        for split, refs in columns.items():
            assert sum(r.value for r in refs.values()) == paper.TABLE_III_TOTALS[dataset][split].value
