"""The words the tables' notes and the summary share: what data, what schedule, which devices."""

from __future__ import annotations

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
    return (f"teacher {s.get('teacher_epochs', '?')} / students {s.get('student_epochs', '?')} epochs, "
            f"{s.get('input_size', '?')}x{s.get('input_size', '?')} input, batch {s.get('batch_size', '?')}, "
            f"lr {s.get('lr', '?')} (paper: {paper.PAPER_TRAINING['epochs']} epochs, batch "
            f"{paper.PAPER_TRAINING['batch_size']}, lr {paper.PAPER_TRAINING['lr']:g})")


def devices(inputs: ReportInputs) -> list[str]:
    found = {str(m["device"]) for m in [*inputs.training.values(), *inputs.evaluation.values()] if m.get("device")}
    return sorted(found)


def printed_accuracy(dataset: str, run: str) -> str:
    """Table IV's accuracy of one of the paper's runs, as printed."""
    from pipeline.reporting import cells

    return cells.ref(next(r.accuracy for r in paper.TABLE_IV[dataset] if r.run == run))
