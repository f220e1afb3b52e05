"""Whether each headline claim of the paper was reproduced, and if not, why not.

A verdict is one of four words, decided in one place so every claim is judged alike:
"reproduced" (our number within the tolerance of the paper's), "not reproduced" (outside it: the
gap is stated), "not comparable" (our number is real but the conditions differ: generated data,
a short schedule, other hardware; the gap is stated for information), "not run".

A claim that compares two of our own numbers (a distilled student against the same student alone) is
held to its noise band instead, named in its "why": twice the seed spread where several seeds ran (at
least the tolerance), else the measured cross-CPU band (:mod:`pipeline.reporting.noise`), else the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.reporting import paper
from pipeline.reporting.layout import our_params
from pipeline.reporting.model import OurRun, ReportInputs, our_run, paper_student, seed_spread
from pipeline.reporting.noise import NoiseBand, noise_band, settings_of
from pipeline.reporting.text import bench_device

TOLERANCE_PP = 1.5  # accuracy within ±1.5 pp of the paper's, or within 2 x our seed std when that is wider
SPREAD_FACTOR = 2.0
SIZE_TOLERANCE_MIB = 0.01  # the paper rounds sizes to 2 decimals
REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE, NOT_RUN = "reproduced", "not reproduced", "not comparable", "not run"


@dataclass(frozen=True)
class Claim:
    claim: str
    paper: str
    ours: str
    verdict: str
    why: str = ""


def accuracy_band(ours: OurRun, tolerance: float = TOLERANCE_PP) -> float:
    """The accepted |gap| in pp: the fixed tolerance, widened to our seed spread when several seeds ran."""
    return max(tolerance, SPREAD_FACTOR * seed_spread(ours))


def judge_gap(gap: float | None, band: float, obstacles: list[str]) -> tuple[str, str]:
    """(verdict, why) for a difference ours - paper, given what makes the comparison unfair."""
    if gap is None:
        return NOT_RUN, ""
    if obstacles:
        return NOT_COMPARABLE, f"{', '.join(obstacles)}; gap {gap:+.2f}"
    if abs(gap) <= band:
        return REPRODUCED, f"gap {gap:+.2f}, within ±{band:.2f}"
    return NOT_REPRODUCED, f"gap {gap:+.2f}, outside ±{band:.2f}"


def schedule_obstacles(inputs: ReportInputs, run: str) -> list[str]:
    """Why an accuracy of ``run`` cannot be held against the paper's, on the paper's own dataset."""
    found = []
    if not inputs.real_data:
        found.append("generated data")
    if run == "teacher" and inputs.schedule.get("teacher_members"):
        found.append("our teacher is an ensemble of trained models, not ResEmoteNet")
    key = "teacher_epochs" if run == "teacher" else "student_epochs"
    epochs = inputs.schedule.get(key)
    if epochs is not None and epochs < paper.PAPER_TRAINING["epochs"]:
        found.append(f"{epochs}/{paper.PAPER_TRAINING['epochs']} epochs")
    return found


def hardware_obstacles(inputs: ReportInputs) -> list[str]:
    bench_devices = {str(bench_device(inputs, name) or "") for name in inputs.benchmarks}
    if bench_devices and all("P100" in d for d in bench_devices):
        return []
    kinds = sorted({d.split(":")[0].strip() or "?" for d in bench_devices})
    return [f"other hardware ({'/'.join(kinds)} vs P100)"]


def accuracy_claim(inputs: ReportInputs, dataset: str, row: paper.PaperRun, tolerance: float = TOLERANCE_PP) -> Claim:
    ours = our_run(inputs, row.run) if dataset == inputs.paper_dataset else None
    model = "ResEmoteNet" if row.run == "teacher" else "student " + row.label[-1]
    name = f"{dataset} {row.run} ({model})" if row.run != "teacher" else f"{dataset} teacher ({model})"
    printed = f"{row.accuracy.value:.2f}"
    if ours is None or ours.acc is None:
        why = f"this run's data is {inputs.paper_dataset}" if dataset != inputs.paper_dataset else "no metrics"
        return Claim(name, printed, "-", NOT_RUN, why)
    verdict, why = judge_gap(ours.acc - row.accuracy.value, accuracy_band(ours, tolerance),
                             schedule_obstacles(inputs, row.run))
    spread = f" ± {ours.acc_std:.2f}" if ours.seeds > 1 and ours.acc_std is not None else ""
    return Claim(name, printed, f"{ours.acc:.2f}{spread}", verdict, why + " pp" if why else why)


def params_claim(inputs: ReportInputs) -> Claim:
    """Table II's parameter counts: an exact check of the architectures."""
    pairs = {name: (our_params(inputs, name), arch.params.value) for name, arch in paper.TABLE_II.items()
             if name in inputs.models}
    if not pairs or any(o is None for o, _ in pairs.values()):
        return Claim(PARAMS_CLAIM, "Table II", "-", NOT_RUN)
    wrong = [f"{n} {o - p:+,}" for n, (o, p) in pairs.items() if o != p]
    return Claim(PARAMS_CLAIM, _millions(p for _, p in pairs.values()), _millions(o for o, _ in pairs.values()),
                 NOT_REPRODUCED if wrong else REPRODUCED, ", ".join(wrong) if wrong else "exact counts")


PARAMS_CLAIM = "Parameters, teacher/A/B/C (Table II)"


def _millions(values) -> str:
    return "/".join(f"{v / 1e6:.2f}M" for v in values)


SIZE_CLAIM = "Size MiB, teacher/A/B (Table V)"


def size_claim(inputs: ReportInputs) -> Claim:
    """Table V's model sizes (MiB of float32 weights)."""
    pairs = {run: ((inputs.benchmarks.get(paper_student(run)) or {}).get("size_mib_fp32"), ref.value)
             for run, ref in paper.TABLE_V_SIZE.items()}
    if any(o is None for o, _ in pairs.values()):
        return Claim(SIZE_CLAIM, "Table V", "-", NOT_RUN)
    worst = max(abs(o - p) for o, p in pairs.values())
    return Claim(SIZE_CLAIM, "/".join(f"{p:.2f}" for _, p in pairs.values()),
                 "/".join(f"{o:.2f}" for o, _ in pairs.values()),
                 REPRODUCED if worst <= SIZE_TOLERANCE_MIB else NOT_REPRODUCED, f"largest Δ {worst:.3f} MiB")


def emonext_claim(inputs: ReportInputs) -> Claim:
    """The abstract's headline: E1 beats EmoNeXt (76.12 %) on FER2013 by 0.21 pp."""
    emonext = next(r.fer2013.value for r in paper.TABLE_VI if r.method.startswith("EmoNeXt"))
    name, printed = "E1 beats EmoNeXt, FER2013 (abstract)", f"+{paper.TEXT_EMONEXT_MARGIN.value:.2f} pp"
    ours = our_run(inputs, "E1") if inputs.paper_dataset == "FER2013" else None
    if ours is None or ours.acc is None:
        return Claim(name, printed, "-", NOT_RUN, "needs E1 on FER2013")
    margin = ours.acc - emonext
    obstacles = schedule_obstacles(inputs, "E1")
    if obstacles:
        return Claim(name, printed, f"{margin:+.2f} pp", NOT_COMPARABLE, ", ".join(obstacles))
    return Claim(name, printed, f"{margin:+.2f} pp", REPRODUCED if margin > 0 else NOT_REPRODUCED,
                 "E1 above EmoNeXt" if margin > 0 else f"E1 {-margin:.2f} pp below EmoNeXt's 76.12")


def reduction_claim(inputs: ReportInputs, quantity: str, field: str, label: str) -> Claim:
    """Sec. IV-B's saving of students A (E1) and B (E4) over the teacher, in % (FER2013; ours are per model)."""
    refs = paper.TEXT_SAVINGS["FER2013"][quantity]
    name = f"{label} saving of A/B vs teacher"
    printed = "/".join(f"{refs[r].value:.2f}%" for r in ("E1", "E4"))
    values = {r: (inputs.benchmarks.get(paper_student(r)) or {}).get(field) for r in ("teacher", "E1", "E4")}
    if any(v is None for v in values.values()) or not values["teacher"]:
        return Claim(name, printed, "-", NOT_RUN)
    ours = "/".join(f"{100 * (1 - values[r] / values['teacher']):.2f}%" for r in ("E1", "E4"))
    obstacles = hardware_obstacles(inputs)
    return Claim(name, printed, ours,
                 NOT_COMPARABLE if obstacles else REPRODUCED if _same_direction(values) else NOT_REPRODUCED,
                 ", ".join(obstacles) if obstacles else "")


def _same_direction(values: dict) -> bool:
    return values["E1"] < values["teacher"] and values["E4"] < values["teacher"]


def paper_settings_obstacles(inputs: ReportInputs) -> list[str]:
    """How a student's run differs from the paper's (data, input size, batch, lr, epochs); [] when it is the paper's."""
    s, p = inputs.schedule, paper.PAPER_TRAINING
    pairs = (("input", s.get("input_size"), 64), ("batch", s.get("batch_size"), p["batch_size"]),
             ("lr", s.get("lr"), p["lr"]), ("epochs", s.get("student_epochs"), p["epochs"]))
    differs = [key for key, ours, theirs in pairs if ours is not None and ours != theirs]
    return ([] if inputs.real_data else ["generated data"]) + (["differs: " + "/".join(differs)] if differs else [])


UNDISTILLED_CLAIM = "E6 needs its teacher (paper settings)"


def undistilled_claim(inputs: ReportInputs) -> Claim:
    """What the paper's E6 (student C distilled, 58.58 %) owes to distillation: the same student trained
    with plain class-weighted CE at the paper's settings. Reproduced when it stays below E6 by more than
    the tolerance; not reproduced when it reaches E6 without a teacher."""
    e6 = next(r for r in paper.TABLE_IV["FER2013"] if r.run == "E6")
    printed = f"{e6.accuracy.value:.2f} (distilled)"
    ours = our_run(inputs, "baseline_student_c") if inputs.paper_dataset == "FER2013" else None
    if ours is None or ours.acc is None:
        return Claim(UNDISTILLED_CLAIM, printed, "-", NOT_RUN, "needs baseline student_c on FER2013")
    gap = ours.acc - e6.accuracy.value
    band = accuracy_band(ours)
    obstacles = paper_settings_obstacles(inputs)
    if obstacles:
        verdict, why = NOT_COMPARABLE, "; ".join(obstacles)
    elif gap < -band:
        verdict, why = REPRODUCED, f"without a teacher {-gap:.2f} pp below E6 (band ±{band:.2f})"
    else:
        verdict, why = NOT_REPRODUCED, f"without a teacher it reaches E6: gap {gap:+.2f} pp (band ±{band:.2f})"
    return Claim(UNDISTILLED_CLAIM, printed, f"{ours.acc:.2f} (no teacher)", verdict, why)


def strong_teacher(inputs: ReportInputs) -> bool:
    """The teacher scores above every student baseline of this run: a test of distillation that means something
    (a teacher weaker than its students cannot be expected to help them)."""
    teacher = our_run(inputs, "teacher")
    plain = [our_run(inputs, f"baseline_{s}") for s in inputs.baseline_students]
    accs = [p.acc for p in plain if p is not None and p.acc is not None]
    return teacher is not None and teacher.acc is not None and bool(accs) and teacher.acc > max(accs)


def gain_band(inputs: ReportInputs, distilled: OurRun, plain: OurRun) -> NoiseBand:
    """The band a gain of ours over ours must clear, its name saying which: 2 x the larger seed std (both sides
    several seeds), else the cross-CPU band measured on this run's settings, else the fixed tolerance; never below
    the fixed tolerance (two seeds can agree by chance; a one-seed gain has seed noise whatever the CPU)."""
    band = noise_band(min(distilled.seeds, plain.seeds), max(seed_spread(distilled), seed_spread(plain)),
                      inputs.cross_cpu_band, settings_of(inputs.data_source, inputs.schedule),
                      spread_factor=SPREAD_FACTOR)
    if band.pp is None:
        return NoiseBand(TOLERANCE_PP, "fixed tolerance", band.note)
    if band.pp < TOLERANCE_PP:  # two seeds can agree by chance; a 0 pp cross-CPU band (portable kernels) says nothing of seeds
        return NoiseBand(TOLERANCE_PP, "fixed tolerance", f"{band} narrower")
    return band


def distillation_gain_claims(inputs: ReportInputs) -> list[Claim]:
    """Table IV's premise in this run: each distilled student beats the same student trained without a
    teacher (its baseline), by more than its noise band (:func:`gain_band`). One claim per distill run
    whose student has a baseline here, named "Strong teacher helps" when the teacher beats every baseline."""
    found = []
    label = "Strong teacher helps" if strong_teacher(inputs) else "Teacher helps"
    for run, spec in inputs.distill_runs.items():
        student = spec.get("student")
        distilled, plain = our_run(inputs, run), our_run(inputs, f"baseline_{student}")
        if student not in inputs.baseline_students or distilled is None or plain is None:
            continue
        name = f"{label}: {run} vs {student} alone"
        if distilled.acc is None or plain.acc is None:
            found.append(Claim(name, "E > baseline", "-", NOT_RUN))
            continue
        delta = distilled.acc - plain.acc
        band = gain_band(inputs, distilled, plain)
        ours = f"{delta:+.2f} pp"
        if max(distilled.seeds, plain.seeds) > 1:  # a gain of the means: each side's seed spread beside it
            ours += f" (sd {seed_spread(distilled):.2f}/{seed_spread(plain):.2f})"
        if not inputs.real_data:
            found.append(Claim(name, "E > baseline", ours, NOT_COMPARABLE, "generated data"))
        elif delta > band.pp:
            found.append(Claim(name, "E > baseline", ours, REPRODUCED, f"gain above {band}"))
        else:
            found.append(Claim(name, "E > baseline", ours, NOT_REPRODUCED, f"gain within or below {band}"))
    return found


def claims(inputs: ReportInputs, tolerance: float = TOLERANCE_PP) -> list[Claim]:
    """Every headline claim, in the paper's order: architecture, accuracy per run, the savings."""
    found = [params_claim(inputs), size_claim(inputs)]
    for dataset in paper.PAPER_DATASETS:
        found += [accuracy_claim(inputs, dataset, row, tolerance) for row in paper.TABLE_IV[dataset]]
    found += [undistilled_claim(inputs), *distillation_gain_claims(inputs), emonext_claim(inputs),
              reduction_claim(inputs, "memory", "peak_inference_memory_mib", "Memory"),
              reduction_claim(inputs, "latency", "latency_ms_b1", "Latency")]
    return found
