"""The words the tables' notes and the summary share: what data, what schedule, which devices."""

from __future__ import annotations

from pipeline.core.runfacts import device_of, torch_of
from pipeline.reporting import paper
from pipeline.reporting.model import ReportInputs


def data_words(inputs: ReportInputs) -> str:
    """E.g. "`synthetic` data (generated, stands in for FER2013)" or "`fer2013` data (real FER2013)"."""
    kind = f"real {inputs.paper_dataset}" if inputs.real_data else f"generated, stands in for {inputs.paper_dataset}"
    return f"`{inputs.data_source}` data ({kind})"


def schedule_words(inputs: ReportInputs) -> str:
    s = inputs.schedule
    if not s:
        return "schedule: see params.yaml"
    members = s.get("teacher_members")
    teacher = (f"teacher an ensemble of {len(members)} trained models ({', '.join(members)}); students "
               f"{s.get('student_epochs', '?')} epochs" if members else
               f"teacher {s.get('teacher_epochs', '?')} / students {s.get('student_epochs', '?')} epochs")
    return (f"{teacher}, "
            f"{s.get('input_size', '?')}x{s.get('input_size', '?')} input, batch {s.get('batch_size', '?')}, "
            f"lr {s.get('lr', '?')} (paper: {paper.PAPER_TRAINING['epochs']} epochs, batch "
            f"{paper.PAPER_TRAINING['batch_size']}, lr {paper.PAPER_TRAINING['lr']:g})")


def devices(inputs: ReportInputs) -> list[str]:
    """The devices that trained and evaluated the runs, from their run facts (older outputs: their metrics)."""
    found = {device_of(m, facts.get(key)) for records, facts in ((inputs.training, inputs.training_facts),
                                                                  (inputs.evaluation, inputs.evaluation_facts))
             for key, m in records.items()}
    return sorted(str(d) for d in found if d)


def bench_device(inputs: ReportInputs, name: str) -> str | None:
    """The device model ``name`` was benchmarked on (its run facts; older reports: the report's own key)."""
    return device_of(inputs.benchmarks.get(name), inputs.benchmark_facts.get(name))


def bench_torch(inputs: ReportInputs, name: str) -> str | None:
    return torch_of(inputs.benchmarks.get(name), inputs.benchmark_facts.get(name))


def bench_devices(inputs: ReportInputs) -> list[str]:
    """Every device a benchmark report of this run was measured on, sorted."""
    return sorted({str(d) for d in (bench_device(inputs, name) for name in inputs.benchmarks) if d})


def printed_accuracy(dataset: str, run: str) -> str:
    """Table IV's accuracy of one of the paper's runs, as printed."""
    from pipeline.reporting import cells

    return cells.ref(next(r.accuracy for r in paper.TABLE_IV[dataset] if r.run == run))
