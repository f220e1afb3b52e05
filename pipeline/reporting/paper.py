"""The papers' reference values, each with where it came from: the one place the report compares against.

Rule: a value we could not find in a retrievable source stays ``None`` (printed "n/a (not found)");
nothing here is estimated or filled in. Accuracies are in percent, as the papers print them.

Papers:
- "Mini-ResEmoteNet: Leveraging Knowledge Distillation for Human-Centered Design",
  Murtada, Abdelrhman, Attia, arXiv:2501.18538 (2025) -- the paper this pipeline reproduces.
- "ResEmoteNet: Bridging Accuracy and Loss Reduction in Facial Emotion Recognition",
  Roy et al., arXiv:2409.10545 -- the teacher's own paper.
- "Recognizing Facial Expressions in the Wild using Multi-Architectural Representations based
  Ensemble Learning with Distillation" (EmoXNet / EmoXNetLite), Momin et al., arXiv:2106.16126.
- "EmoNeXt: an Adapted ConvNeXt for Facial Emotion Recognition", El Boudouri & Bohi, arXiv:2501.08199.

Only the abstracts and index-site listings of arXiv:2501.18538 could be retrieved here, not its
full tables: its Table IV is known for run E1 on FER2013 only; Tables III (per-class val/test),
V (memory, latency) and VI stay mostly ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

# The paper's class order (FER2013's labels 0..6), used for its Table III.
CLASS_NAMES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

MINI_RESEMOTENET = "Mini-ResEmoteNet, arXiv:2501.18538"
MINI_RESEMOTENET_ABSTRACT = f"{MINI_RESEMOTENET}, abstract"
MINI_RESEMOTENET_PROJECT = f"{MINI_RESEMOTENET}, as given in the project brief"
PWC_LISTING = ("Papers with Code / HyperAI benchmark listing of arXiv:2501.18538 "
               "(facial-expression-recognition-on-fer2013, entry 'Mini-ResEmoteNet (B)'; run not stated)")
RESEMOTENET_ABSTRACT = "ResEmoteNet, arXiv:2409.10545v2, abstract"
EMOXNET_ABSTRACT = "EmoXNet, arXiv:2106.16126, abstract"
EMONEXT_SOURCE = ("EmoNeXt, arXiv:2501.08199 (EmoNeXt-XLarge, FER2013 test); consistent with "
                  "arXiv:2501.18538's abstract: E1's 76.33% is '+0.21% over EmoNeXt'")
KAGGLE_FER2013 = "counted from the Kaggle fer2013.csv Usage column (shared/data/fer2013.csv.gz)"

NOT_FOUND = "n/a (not found)"


@dataclass(frozen=True)
class Ref:
    """One reference number and where it came from (``value`` None: not found)."""

    value: float | None
    source: str = "not found"

    @property
    def found(self) -> bool:
        return self.value is not None


def _missing() -> Ref:
    return Ref(None, "not found")


# --- Table II: architectures and parameter counts (names as in params.yaml `models`) ---------
PAPER_MODELS: dict[str, dict] = {
    "teacher": {"label": "ResEmoteNet (teacher)", "channel_reduction": "0%",
                "params": Ref(80_238_599, MINI_RESEMOTENET_PROJECT)},
    "student_a": {"label": "Student A", "channel_reduction": "50%",
                  "params": Ref(20_069_383, MINI_RESEMOTENET_PROJECT)},
    "student_b": {"label": "Student B", "channel_reduction": "75%",
                  "params": Ref(5_022_215, MINI_RESEMOTENET_PROJECT)},
    "student_c": {"label": "Student C", "channel_reduction": "87.5%",
                  "params": Ref(1_259_911, MINI_RESEMOTENET_PROJECT)},
}


def fp32_mib(params: int) -> float:
    """Float32 weight size in MiB, the way the paper's model sizes are computed (params * 4 / 2**20)."""
    return params * 4 / 2**20


# --- Table V: size / inference memory / latency (paper's hardware not retrieved) -------------
PAPER_EFFICIENCY: dict[str, dict[str, Ref]] = {
    "teacher": {"size_mib": Ref(306.09, MINI_RESEMOTENET_PROJECT),
                "memory_mib": _missing(), "latency_ms": _missing()},
    "student_a": {"size_mib": Ref(76.56, MINI_RESEMOTENET_PROJECT),
                  "memory_mib": _missing(), "latency_ms": _missing()},
    "student_b": {"size_mib": Ref(19.16, MINI_RESEMOTENET_PROJECT),
                  "memory_mib": _missing(), "latency_ms": _missing()},
    # Not printed in the brief's sources: computed from the parameter count, never invented.
    "student_c": {"size_mib": Ref(round(fp32_mib(1_259_911), 2),
                                  "computed: 1,259,911 params x 4 B / 2^20 (paper's count)"),
                  "memory_mib": _missing(), "latency_ms": _missing()},
}

# --- Paper runs (Table IV's rows) and training settings ---------------------------------------
PAPER_RUNS: dict[str, dict] = {
    "E1": {"student": "student_a", "T": 3, "alpha": 0.20},
    "E2": {"student": "student_a", "T": 3, "alpha": 0.15},
    "E3": {"student": "student_b", "T": 3, "alpha": 0.20},
    "E4": {"student": "student_b", "T": 3, "alpha": 0.15},
    "E5": {"student": "student_b", "T": 3, "alpha": 0.10},
    "E6": {"student": "student_c", "T": 3, "alpha": 0.20},
}
PAPER_TRAINING = {"T": 3, "optimizer": "SGD", "lr": 1e-3, "batch_size": 16, "epochs": 80,
                  "input_size": 64, "source": MINI_RESEMOTENET_PROJECT}

# --- Table IV: test accuracy (%) per run per dataset ------------------------------------------
# Dataset keys are the paper's dataset names (a source's ``paper_dataset``, see pipeline.sources).
PAPER_ACCURACY: dict[str, dict[str, Ref]] = {
    # The teacher's numbers are ResEmoteNet's own paper's (the Mini-ResEmoteNet paper's own
    # teacher row was not retrieved).
    "teacher": {"FER2013": Ref(79.79, RESEMOTENET_ABSTRACT), "RAF-DB": Ref(94.76, RESEMOTENET_ABSTRACT)},
    "E1": {"FER2013": Ref(76.33, MINI_RESEMOTENET_ABSTRACT), "RAF-DB": _missing()},
    **{run: {"FER2013": _missing(), "RAF-DB": _missing()} for run in ("E2", "E3", "E4", "E5", "E6")},
}
PAPER_DATASETS: tuple[str, ...] = ("FER2013", "RAF-DB")

# data.source -> the paper dataset it is (synthetic data stands in for FER2013: deltas then
# compare different data and are not meaningful; the report says so).

# --- Table VI: literature values (what could be retrieved; the paper's full Table VI was not) --
@dataclass(frozen=True)
class LiteratureRow:
    method: str
    dataset: str
    accuracy: Ref
    ours: tuple[str, ...] = ()  # our run ids that correspond (best of them is compared)


LITERATURE: tuple[LiteratureRow, ...] = (
    LiteratureRow("ResEmoteNet", "FER2013", Ref(79.79, RESEMOTENET_ABSTRACT), ("teacher",)),
    LiteratureRow("ResEmoteNet", "RAF-DB", Ref(94.76, RESEMOTENET_ABSTRACT), ("teacher",)),
    LiteratureRow("ResEmoteNet", "AffectNet-7", Ref(72.39, RESEMOTENET_ABSTRACT)),
    LiteratureRow("ResEmoteNet", "ExpW", Ref(75.67, RESEMOTENET_ABSTRACT)),
    LiteratureRow("EmoNeXt", "FER2013", Ref(76.12, EMONEXT_SOURCE)),
    LiteratureRow("Mini-ResEmoteNet A (E1)", "FER2013", Ref(76.33, MINI_RESEMOTENET_ABSTRACT), ("E1",)),
    LiteratureRow("Mini-ResEmoteNet B (run not stated)", "FER2013", Ref(70.20, PWC_LISTING), ("E3", "E4", "E5")),
    LiteratureRow("Mini-ResEmoteNet C (E6)", "FER2013", _missing(), ("E6",)),
    # Paper 2: ensemble teacher distilled into EmoXNetLite; FER2013 evaluated with FER+ labels.
    LiteratureRow("EmoXNet (ensemble teacher)", "FER+", Ref(85.07, EMOXNET_ABSTRACT)),
    LiteratureRow("EmoXNet (ensemble teacher)", "RAF-DB", Ref(86.25, EMOXNET_ABSTRACT)),
    LiteratureRow("EmoXNetLite (distilled)", "FER+", Ref(82.07, EMOXNET_ABSTRACT)),
    LiteratureRow("EmoXNetLite (distilled)", "RAF-DB", Ref(81.78, EMOXNET_ABSTRACT)),
)

# --- Table III: class counts per split --------------------------------------------------------
_PAPER_FER_TRAIN = dict(zip(CLASS_NAMES, (3995, 436, 4097, 7215, 4830, 3171, 4965)))
PAPER_CLASS_COUNTS: dict[str, dict[str, dict[str, Ref]]] = {
    "FER2013": {
        "train": {c: Ref(n, MINI_RESEMOTENET_PROJECT + " (Table III)") for c, n in _PAPER_FER_TRAIN.items()},
        # The paper's per-class val/test columns were not retrieved (the brief says its test
        # column does not match the real data's counts); only the split totals are known.
        "val": {c: _missing() for c in CLASS_NAMES},
        "test": {c: _missing() for c in CLASS_NAMES},
    },
}
PAPER_SPLIT_TOTALS: dict[str, dict[str, Ref]] = {
    "FER2013": {"train": Ref(sum(_PAPER_FER_TRAIN.values()), "sum of the paper's Table III train column"),
                "val": Ref(3589, MINI_RESEMOTENET_PROJECT), "test": Ref(3589, MINI_RESEMOTENET_PROJECT)},
}
PAPER_TEST_COUNTS_NOTE = ("The paper's Table III FER2013 test column does not match the real FER2013 "
                          "test counts (per the project brief); its per-class values were not retrieved "
                          "here, so only the real counts are shown beside ours.")

# The real FER2013 (Kaggle CSV) per-class counts: a fact about the data, measured, not the paper's.
# val = PublicTest, test = PrivateTest.
FER2013_KAGGLE_COUNTS: dict[str, dict[str, int]] = {
    "train": dict(_PAPER_FER_TRAIN),
    "val": dict(zip(CLASS_NAMES, (467, 56, 496, 895, 653, 415, 607))),
    "test": dict(zip(CLASS_NAMES, (491, 55, 528, 879, 594, 416, 626))),
}


def accuracy_ref(run: str, dataset: str) -> Ref:
    """The paper's test accuracy (%) of one run on one dataset; a not-found Ref if unknown."""
    return PAPER_ACCURACY.get(run, {}).get(dataset, _missing())


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
