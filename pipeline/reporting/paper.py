"""The paper's printed values, each with its table and row: the one place the report compares against.

Source: the full text of *Mini-ResEmoteNet: Leveraging Knowledge Distillation for Human-Centered
Design* (Murtada, Abdelrhman, Attia; arXiv:2501.18538), ``shared/papers/001_e39726b06b5ed55e.txt``.
Every number below is copied from it as printed (accuracies in %, sizes in the paper's "MB").
A value the paper does not print is ``Ref(None, ...)`` and prints as "n/a (not found)"; a cell the
paper prints as "-" is ``Ref(None, ..., dash=True)`` and prints as "-". Nothing is estimated.
Where the paper contradicts itself both values are kept (:data:`CONTRADICTIONS`) and the tables
say which one they compare against.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.sources.fer2013 import CLASS_NAMES  # noqa: F401  FER2013's labels 0..6 (Table III prints another order)

PAPER = "Mini-ResEmoteNet, arXiv:2501.18538"
PAPER_TEXT_FILE = "001_e39726b06b5ed55e.txt"  # in shared/papers/
NOT_FOUND = "n/a (not found)"
PAPER_DEVICE = "NVIDIA Tesla P100 (Kaggle)"  # Sec. III-D; batch size and memory method not stated


@dataclass(frozen=True)
class Ref:
    """One printed number and where it is printed (``value`` None: not printed; ``dash``: printed "-").

    ``digits``: the decimals the paper prints where they differ from the tables' usual two
    (losses such as 0.056 and 0.7590, Table VI's 81.4), so a cell shows the number as printed.
    """

    value: float | None
    source: str = "not printed"
    dash: bool = False
    digits: int | None = None

    @property
    def found(self) -> bool:
        return self.value is not None


# Cells the paper leaves empty, shown as "-": a model it does not have (a student params adds), and a value
# Table V does not print (student C, a new student).
NOT_IN_PAPER = Ref(None, f"{PAPER}: no such model", dash=True)
NOT_IN_TABLE_V = Ref(None, f"{PAPER}, Table V: not printed", dash=True)


def _t(table: str, row: str, value: float | str | None) -> Ref:
    """A printed value; give it as a string ("0.7590") to keep the decimals the paper prints."""
    if isinstance(value, str):
        return Ref(float(value), f"{PAPER}, Table {table}, {row}", digits=len(value.partition(".")[2]))
    return Ref(value, f"{PAPER}, Table {table}, {row}")


def _dash(table: str, row: str) -> Ref:
    return Ref(None, f"{PAPER}, Table {table}, {row}: printed '-'", dash=True)


# --- Table I: model size (MB = 10^6 bytes) and parameters of other FER models -----------------
@dataclass(frozen=True)
class SizedModel:
    name: str
    size_mb: Ref
    params: Ref
    ours: str | None = None  # our model that is this one (params.yaml `models` name)


def _table1(name: str, size_mb: float, params: int, ours: str | None = None) -> SizedModel:
    return SizedModel(name, _t("I", name, size_mb), _t("I", name, params), ours)


TABLE_I: tuple[SizedModel, ...] = (
    _table1("POSTER++ [5]", 233.27, 58_316_594),
    _table1("QCS [6]", 331.50, 82_874_119),
    _table1("FMAE [7]", 1217.31, 304_326_632),
    _table1("Segmentation VGG-19 [8]", 676.88, 169_220_807),
    _table1("EmoNeXt [9]", 122.26, 30_564_331),
    _table1("Ensemble ResMaskingNet [10]", 85.15, 21_288_263),
    _table1("ResEmoteNet [11]", 320.95, 80_238_599, ours="teacher"),
)


# --- Table II: channels per layer and total parameters ----------------------------------------
@dataclass(frozen=True)
class Architecture:
    label: str
    cnn: tuple[int, int, int]   # output channels of the three convs
    se: int                     # SE block channels
    rb: tuple[int, int, int]    # input channels of the three residual blocks
    params: Ref


def _table2(label: str, cnn: tuple, se: int, rb: tuple, params: int) -> Architecture:
    return Architecture(label, cnn, se, rb, _t("II", label, params))


TABLE_II: dict[str, Architecture] = {  # keys: params.yaml `models` names
    "teacher": _table2("ResEmoteNet", (64, 128, 256), 256, (256, 512, 1024), 80_238_599),
    "student_a": _table2("Student Model (A)", (32, 64, 128), 128, (128, 256, 512), 20_069_383),
    "student_b": _table2("Student Model (B)", (16, 32, 64), 64, (64, 128, 256), 5_022_215),
    "student_c": _table2("Student Model (C)", (8, 16, 32), 32, (32, 64, 128), 1_259_911),
}
TABLE_II_SOURCE = f"{PAPER}, Table II (header garbled by the extraction: CNN | SE | RB | total parameters)"

# --- Table III: class counts as printed (row label -> counts per column) ----------------------
TABLE_III_ROWS: tuple[str, ...] = ("happy", "surprise", "sad", "angry", "disgust", "fear", "neutral")
TABLE_III: dict[str, dict[str, dict[str, Ref]]] = {
    # FER2013 columns: Training Set, Public Test, Private Test; our splits train, val (PublicTest), test.
    "FER2013": {
        split: {c: _t("III", f"FER2013 {column}, row {c}", n) for c, n in zip(TABLE_III_ROWS, counts)}
        for split, column, counts in (
            ("train", "Training Set", (7215, 3171, 4830, 3995, 436, 4097, 4965)),
            ("val", "Public Test", (653, 56, 895, 467, 415, 607, 496)),
            ("test", "Private Test", (594, 55, 879, 491, 416, 626, 528)),
        )
    },
    # RAF-DB columns: Training Set, Test Set (our rafdb source carves val out of train).
    "RAF-DB": {
        split: {c: _t("III", f"RAF-DB {column}, row {c}", n) for c, n in zip(TABLE_III_ROWS, counts)}
        for split, column, counts in (
            ("train", "Training Set", (4772, 1982, 2524, 705, 717, 281, 1290)),
            ("test", "Test Set", (1185, 478, 680, 162, 160, 74, 329)),
        )
    },
}
# The words of Table III's split columns, by paper dataset and our split (the Markdown's headers).
TABLE_III_HEADERS: dict[str, dict[str, str]] = {
    "FER2013": {"train": "Training", "val": "Public Test", "test": "Private Test"},
    "RAF-DB": {"train": "Training", "test": "Test"},
}
TABLE_III_TOTALS: dict[str, dict[str, Ref]] = {
    "FER2013": {"train": _t("III", "Total per set, FER2013 Training", 28709),
                "val": _t("III", "Total per set, FER2013 Public Test", 3589),
                "test": _t("III", "Total per set, FER2013 Private Test", 3589)},
    "RAF-DB": {"train": _t("III", "Total per set, RAF-DB Training", 12271),
               "test": _t("III", "Total per set, RAF-DB Test", 3068)},
}

# The real FER2013 counts (Kaggle fer2013.csv, Usage column): a fact about the data, used to flag
# Table III's cells that disagree with it. val = PublicTest, test = PrivateTest.
FER2013_REAL_SOURCE = "counted from the Kaggle fer2013.csv Usage column (shared/papers/README.md)"
FER2013_REAL_COUNTS: dict[str, dict[str, int]] = {
    "train": dict(zip(CLASS_NAMES, (3995, 436, 4097, 7215, 4830, 3171, 4965))),
    "val": dict(zip(CLASS_NAMES, (467, 56, 496, 895, 653, 415, 607))),
    "test": dict(zip(CLASS_NAMES, (491, 55, 528, 879, 594, 416, 626))),
}

# --- Table IV: T, alpha, test accuracy (%) and loss per run, per dataset ----------------------
PAPER_DATASETS: tuple[str, ...] = ("FER2013", "RAF-DB")


@dataclass(frozen=True)
class PaperRun:
    run: str            # our run id: teacher, E1..E6
    label: str          # the paper's row label
    student: str        # params.yaml `models` name
    T: float | None
    alpha: float | None
    accuracy: Ref
    loss: Ref


def _table4(dataset: str, run: str, label: str, student: str, T, alpha, acc: float, loss: str) -> PaperRun:
    row = f"{dataset}, {label}"
    return PaperRun(run, label, student, T, alpha, _t("IV", row, acc), _t("IV", row, loss))


TABLE_IV: dict[str, tuple[PaperRun, ...]] = {
    "FER2013": (
        _table4("FER2013", "teacher", "Teacher Model (ResEmoteNet)", "teacher", None, None, 79.79, "0.056"),
        _table4("FER2013", "E1", "E1: Student Model A", "student_a", 3, 0.20, 76.42, "0.7590"),
        _table4("FER2013", "E2", "E2: Student Model A", "student_a", 3, 0.15, 76.17, "0.0755"),
        _table4("FER2013", "E3", "E3: Student Model B", "student_b", 3, 0.20, 68.75, "0.0970"),
        _table4("FER2013", "E4", "E4: Student Model B", "student_b", 3, 0.15, 70.20, "0.9659"),
        _table4("FER2013", "E5", "E5: Student Model B", "student_b", 3, 0.10, 69.56, "0.0934"),
        _table4("FER2013", "E6", "E6: Student Model C", "student_c", 3, 0.20, 58.58, "0.1202"),
    ),
    "RAF-DB": (
        _table4("RAF-DB", "teacher", "Teacher Model (ResEmoteNet)", "teacher", None, None, 94.76, "0.1802"),
        _table4("RAF-DB", "E1", "E1: Student Model A", "student_a", 3, 0.20, 85.00, "0.5213"),
        _table4("RAF-DB", "E4", "E4: Student Model B", "student_b", 3, 0.15, 82.45, "0.6225"),
    ),
}
# Sec. III-D: batch 16, 80 epochs, SGD lr 1e-3, x0.1 on plateau; T=3; the input size is not stated.
PAPER_TRAINING = {"epochs": 80, "batch_size": 16, "lr": 1e-3, "optimizer": "SGD", "T": 3,
                  "source": f"{PAPER}, Sec. III-D"}

# --- Table V: size (MB printed; = MiB), inference memory (MB), latency (ms) -------------------
TABLE_V_MODELS: dict[str, str] = {"teacher": "ResEmoteNet", "E1": "Student Model (E1A)", "E4": "Student Model (E4B)"}
TABLE_V_SIZE: dict[str, Ref] = {run: _t("V", f"Model Size (MB), {label}", v)
                                for (run, label), v in zip(TABLE_V_MODELS.items(), (306.09, 76.56, 19.16))}


def _table5(dataset: str, quantity: str, values: tuple) -> dict[str, Ref]:
    return {run: _t("V", f"{dataset}, {quantity}, {label}", v)
            for (run, label), v in zip(TABLE_V_MODELS.items(), values)}


TABLE_V: dict[str, dict[str, dict[str, Ref]]] = {  # dataset -> quantity -> run -> value
    "FER2013": {"accuracy": _table5("FER2013", "Accuracy (%)", (79.79, 76.42, 70.20)),
                "memory_mb": _table5("FER2013", "Memory Usage (MB)", (10102.94, 5088.46, 1814.97)),
                "latency_ms": _table5("FER2013", "Average Inference Time (ms)", (1.4, 0.14, 0.15))},
    "RAF-DB": {"accuracy": _table5("RAF-DB", "Accuracy (%)", (94.76, 85.00, 82.45)),
               "memory_mb": _table5("RAF-DB", "Memory Usage (MB)", (838.19, 827.96, 748.72)),
               "latency_ms": _table5("RAF-DB", "Average Inference Time (ms)", (3.2, 0.29, 0.24))},
}

# --- Table VI: literature rows (accuracy % on FER2013 / RAF-DB, parameters) -------------------
@dataclass(frozen=True)
class LiteratureRow:
    method: str
    fer2013: Ref
    rafdb: Ref
    params: Ref
    ours: str | None = None  # our run that is this row


def _table6(method: str, fer2013, rafdb, params, ours: str | None = None) -> LiteratureRow:
    def ref(value):
        return _dash("VI", method) if value is None else _t("VI", method, value)
    return LiteratureRow(method, ref(fer2013), ref(rafdb), ref(params), ours)


TABLE_VI: tuple[LiteratureRow, ...] = (
    _table6("C MT PSR [18]", None, "81.4", None),  # printed "81.4 (a)": a footnote mark the text never explains
    _table6("C MT VGGFACE [18]", None, "84.8", None),
    _table6("POSTER++ [5]", None, 92.21, 58_316_594),
    _table6("QCS [6]", None, 93.02, 82_874_119),
    _table6("FMAE [7]", None, 93.09, 304_326_632),
    _table6("Segmentation VGG-19 [8]", 75.97, None, 169_220_807),
    _table6("EmoNeXt [9]", 76.12, None, 30_564_331),
    _table6("Ensemble ResMaskingNet [10]", 76.82, None, 21_288_263),
    _table6("ResEmoteNet [11]", 79.79, 94.76, 80_238_599, ours="teacher"),
    _table6("Student Model A (E1)", 76.33, 85.00, 20_069_383, ours="E1"),
    _table6("Student Model B (E4)", 70.20, 82.45, 5_022_215, ours="E4"),
)

# --- Text-only claims (abstract, Sec. IV, conclusion) -----------------------------------------
TEXT_E1_FER2013 = Ref(76.33, f"{PAPER}, abstract, Sec. IV-A, Sec. IV-C, conclusion and Table VI")
TEXT_RAFDB = {"E1": Ref(84.21, f"{PAPER}, Sec. IV-A text"), "E4": Ref(81.41, f"{PAPER}, Sec. IV-A text")}
TEXT_EMONEXT_MARGIN = Ref(0.21, f"{PAPER}, abstract: E1 is '+0.21% over EmoNeXt' (76.33 - 76.12)")
# Sec. IV-B: savings of A (E1) and B (E4) over the teacher, in % ("absolute improvements"), from Table V.
TEXT_SAVINGS: dict[str, dict[str, dict[str, Ref]]] = {  # dataset -> quantity -> run -> %
    dataset: {quantity: {run: Ref(v, f"{PAPER}, Sec. IV-B, {dataset} {quantity} saving of {run}")
                         for run, v in zip(("E1", "E4"), values)}
              for quantity, values in savings.items()}
    for dataset, savings in (("FER2013", {"memory": (49.63, 82.05), "latency": (90.00, 89.29)}),
                             ("RAF-DB", {"memory": (1.22, 10.68), "latency": (90.94, 92.50)}))
}


# --- Where the paper contradicts itself -------------------------------------------------------
@dataclass(frozen=True)
class Contradiction:
    what: str
    values: str
    compared: str  # which value the tables compare against, and why


CONTRADICTIONS: tuple[Contradiction, ...] = (
    Contradiction("E1 accuracy on FER2013", "76.33 % (abstract, text, Table VI) vs 76.42 % (Tables IV and V)",
                  "Tables IV/V compare with 76.42 (the result tables' own value); Table VI with 76.33 (its row)."),
    Contradiction("RAF-DB accuracies of E1 and E4", "text 84.21 / 81.41 % vs Tables IV-VI 85.00 / 82.45 %",
                  "the tables' 85.00 / 82.45: all three tables agree on them; the text's are listed in the summary."),
    Contradiction("Table III FER2013 test columns",
                  "Public/Private Test counts sit on the wrong class rows (e.g. 'Happy' 653 is the real sad count)",
                  "flagged cell by cell against the real counts; totals 28,709 / 3,589 / 3,589 agree."),
    Contradiction("Model size units", "ResEmoteNet 320.95 MB (Table I) vs 306.09 MB (Table V): same 80,238,599 params",
                  "Table I in MB = 10^6 bytes, Table V in MiB = 2^20 bytes; we print both units."),
    Contradiction("Table IV loss column", "0.7590 and 0.9659 (E1, E4) beside 0.0755 ... 0.1202 for the other runs",
                  "printed as is, never differenced: the scales are not one quantity."),
    Contradiction("Latency comparison", "Sec. IV-B calls the second student 'B (E2)'; E2 is student A",
                  "Table V's columns E1 (A) and E4 (B) are used."),
    Contradiction("Loss weights", "Eq. 6 is CE + beta*T^2*KL with alpha named the hard-label weight; "
                  "Table IV's alpha is the distillation weight",
                  "alpha = weight of the T^2*KL term, hard-label weight 1 (params.yaml `distill.runs`)."),
    Contradiction("RAF-DB memory and latency text", "Sec. IV-B's RAF-DB paragraph repeats the FER2013 accuracies "
                  "(76.42 / 70.20) beside RAF-DB memory", "Table V's RAF-DB rows are used."),
)


def fmt_ref(ref: Ref, digits: int = 2) -> str:
    """A reference value for a table cell: the number, or the not-found marker."""
    if not ref.found:
        return NOT_FOUND
    value = ref.value
    return f"{int(value):,}" if float(value).is_integer() and abs(value) >= 1000 else f"{value:.{digits}f}"


# === EmoXNet / EmoXNetLite (arXiv:2106.16126) ==================================================
# A separate block, read by pipeline.reporting.emoxnet only. Only the abstract is public (no code,
# no full text found): the four accuracies below are all it reports; member list, sizes, FLOPs,
# latencies and per-class values stay unknown. "FER+" is FER2013 test images with FER+ labels.
EMOXNET_SOURCE = "EmoXNet, arXiv:2106.16126, abstract"
EMOXNET_ACCURACY: dict[str, dict[str, Ref]] = {
    "EmoXNet": {"FER+": Ref(85.07, EMOXNET_SOURCE), "RAF-DB": Ref(86.25, EMOXNET_SOURCE)},
    "EmoXNetLite": {"FER+": Ref(82.07, EMOXNET_SOURCE), "RAF-DB": Ref(81.78, EMOXNET_SOURCE)},
}
