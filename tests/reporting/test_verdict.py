"""The verdict logic on made-up inputs: reproduced, not reproduced, not comparable, not run."""

from __future__ import annotations

from pipeline.reporting import verdict
from pipeline.reporting.verdict import NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN, REPRODUCED
from tests.reporting.fixtures import make_inputs


def _by_claim(inputs) -> dict[str, verdict.Claim]:
    return {c.claim: c for c in verdict.claims(inputs)}


def test_real_data_full_schedule_is_judged_against_the_tolerance():
    found = _by_claim(make_inputs("fer2013", {"teacher": 79.0, "E1": 76.0, "E4": 65.0, "E6": 60.5}))
    assert found["FER2013 teacher (ResEmoteNet)"].verdict == REPRODUCED      # gap -0.79
    assert found["FER2013 E1 (student A)"].verdict == REPRODUCED             # 76.00 vs Table IV's 76.42
    e4 = found["FER2013 E4 (student B)"]
    assert e4.verdict == NOT_REPRODUCED and "-5.20" in e4.why               # 65.00 vs 70.20
    assert found["FER2013 E6 (student C)"].verdict == NOT_REPRODUCED       # +1.92 > 1.5
    assert found["FER2013 E2 (student A)"].verdict == NOT_RUN
    assert found["RAF-DB E1 (student A)"].verdict == NOT_RUN
    assert found["E1 beats EmoNeXt, FER2013 (abstract)"].verdict == NOT_REPRODUCED  # 76.00 < 76.12
    assert found["Parameters, teacher/A/B/C (Table II)"].verdict == REPRODUCED
    assert found["Size MiB, teacher/A/B (Table V)"].verdict == REPRODUCED


def test_seed_spread_widens_the_tolerance():
    inputs = make_inputs("fer2013", {"E4": 68.3}, stds={"E4": 1.0}, seeds=3)
    e4 = _by_claim(inputs)["FER2013 E4 (student B)"]
    assert e4.verdict == REPRODUCED and "±2.00" in e4.why and e4.ours == "68.30 ± 1.00"
    assert verdict.judge_gap(-1.9, 1.5, [])[0] == NOT_REPRODUCED


def test_generated_data_short_schedule_and_other_hardware_are_not_comparable():
    found = _by_claim(make_inputs("synthetic", {"E1": 76.4}, epochs=6))
    e1 = found["FER2013 E1 (student A)"]
    assert e1.verdict == NOT_COMPARABLE and "generated data" in e1.why and "6/80 epochs" in e1.why
    short = _by_claim(make_inputs("fer2013", {"E1": 76.4}, epochs=5))["FER2013 E1 (student A)"]
    assert short.verdict == NOT_COMPARABLE and "generated" not in short.why
    assert found["Memory saving of A/B vs teacher"].verdict == NOT_COMPARABLE
    on_p100 = _by_claim(make_inputs("fer2013", device="cuda: Tesla P100-PCIE-16GB"))
    assert on_p100["Latency saving of A/B vs teacher"].verdict == REPRODUCED   # both students faster


def test_rafdb_runs_are_judged_against_the_rafdb_rows():
    found = _by_claim(make_inputs("rafdb", {"teacher": 94.0, "E1": 80.0}))
    assert found["RAF-DB teacher (ResEmoteNet)"].verdict == REPRODUCED
    assert found["RAF-DB E1 (student A)"].verdict == NOT_REPRODUCED
    assert found["FER2013 E1 (student A)"].verdict == NOT_RUN


def test_student_c_without_teacher_at_the_papers_settings():
    """Issue 18's claim: what E6 (58.58 %) owes to distillation, judged only at the paper's settings."""
    below = _by_claim(make_inputs("fer2013", {"baseline_student_c": 52.0}))[verdict.UNDISTILLED_CLAIM]
    assert below.verdict == REPRODUCED and "6.58 pp below E6" in below.why and below.ours == "52.00 (no teacher)"
    reaches = _by_claim(make_inputs("fer2013", {"baseline_student_c": 58.0}))[verdict.UNDISTILLED_CLAIM]
    assert reaches.verdict == NOT_REPRODUCED and "gap -0.58" in reaches.why
    short = _by_claim(make_inputs("fer2013", {"baseline_student_c": 52.0}, epochs=50))[verdict.UNDISTILLED_CLAIM]
    assert short.verdict == NOT_COMPARABLE and short.why == "differs: epochs"
    assert _by_claim(make_inputs("fer2013", {}))[verdict.UNDISTILLED_CLAIM].verdict == NOT_RUN


def test_teacher_gain_over_the_same_student_alone():
    found = _by_claim(make_inputs("fer2013", {"E1": 70.0, "baseline_student_a": 66.0, "E6": 55.0,
                                              "baseline_student_c": 54.5}))
    assert found["Teacher helps: E1 vs student_a alone"].verdict == REPRODUCED
    assert found["Teacher helps: E1 vs student_a alone"].ours == "+4.00 pp"
    e6 = found["Teacher helps: E6 vs student_c alone"]
    assert e6.verdict == NOT_REPRODUCED  # +0.50 within ±1.50, one seed and no cross-CPU band measured
    assert e6.why == "gain within or below fixed tolerance ±1.50; cross-CPU band not measured"
    generated = _by_claim(make_inputs("synthetic", {"E1": 70.0, "baseline_student_a": 66.0}))
    assert generated["Teacher helps: E1 vs student_a alone"].verdict == NOT_COMPARABLE


def test_a_strong_teacher_is_named_and_seed_spreads_are_shown():
    """Issue 26: a teacher above every baseline marks the rows; with two seeds the means and spreads are shown,
    and the gain must clear twice the wider spread."""
    inputs = make_inputs("fer2013", {"teacher": 68.0, "E6": 63.0, "baseline_student_c": 61.0, "E4": 66.5,
                                     "baseline_student_b": 66.0}, stds={"E6": 0.2, "baseline_student_c": 1.1},
                         seeds=2)
    found = _by_claim(inputs)
    e6 = found["Strong teacher helps: E6 vs student_c alone"]
    assert e6.verdict == NOT_REPRODUCED and e6.why == "gain within or below 2 x seed spread ±2.20"
    assert e6.ours == "+2.00 pp (sd 0.20/1.10)"
    e4 = found["Strong teacher helps: E4 vs student_b alone"]  # two seeds that agree: the tolerance, not 0
    assert e4.verdict == NOT_REPRODUCED and e4.why == ("gain within or below fixed tolerance ±1.50; "
                                                "2 x seed spread ±0.00 narrower")
    weak = _by_claim(make_inputs("fer2013", {"teacher": 60.0, "E6": 63.0, "baseline_student_c": 61.0}))
    assert "Teacher helps: E6 vs student_c alone" in weak


def test_an_ensemble_teacher_is_named_in_table_iv_and_not_held_against_resemotenet():
    from pipeline.reporting.tables.table4_accuracy import table_iv
    from pipeline.reporting.text import schedule_words

    inputs = make_inputs("fer2013", {"teacher": 68.0, "E6": 63.0, "baseline_student_c": 61.0})
    inputs.schedule.update(teacher_epochs=None, teacher_members=["vgg13", "student_b_s1", "student_c_s0"])
    teacher = _by_claim(inputs)["FER2013 teacher (ResEmoteNet)"]
    assert teacher.verdict == NOT_COMPARABLE and "ensemble" in teacher.why
    table = table_iv(inputs)
    assert any(row[0] == "Teacher: ensemble of 3 (paper: ResEmoteNet)" for row in table.sections[0].rows)
    assert "teacher an ensemble of 3 trained models (vgg13, student_b_s1, student_c_s0); students 80 epochs" in \
        schedule_words(inputs)


def test_one_seed_gain_is_held_to_the_cross_cpu_band_measured_on_its_settings():
    """Issue 28: a gain of ours over ours names its band; with one seed, the committed cross-CPU measurement."""
    from pipeline.reporting.noise import CrossCpuBand, settings_of

    inputs = make_inputs("fer2013", {"E1": 70.0, "baseline_student_a": 66.0})
    inputs.cross_cpu_band = CrossCpuBand(5.0, "test", settings_of(inputs.data_source, inputs.schedule))
    e1 = _by_claim(inputs)["Teacher helps: E1 vs student_a alone"]
    assert e1.verdict == NOT_REPRODUCED and e1.why == "gain within or below cross-CPU band ±5.00"
    inputs.cross_cpu_band = CrossCpuBand(5.0, "test", {**inputs.cross_cpu_band.settings, "input_size": 32})
    e1 = _by_claim(inputs)["Teacher helps: E1 vs student_a alone"]
    assert e1.verdict == REPRODUCED and e1.why.startswith("gain above fixed tolerance ±1.50; cross-CPU band not "
                                                          "measured for these settings (±5.00 pp is for")
