"""Table V: size, accuracy, inference memory and latency of the teacher and the students, per dataset."""

from __future__ import annotations

from pipeline.reporting import cells, paper
from pipeline.reporting.cells import NOT_RUN
from pipeline.reporting.model import ReportInputs, Table, efficiency_runs, our_run, student_of
from pipeline.reporting.records import Column, Record, diff, frame, nan, section
from pipeline.reporting.tables import paper_table
from pipeline.reporting.text import bench_device, bench_devices, bench_torch, data_words

NAME = "table5_efficiency"
TITLE = "Table V - students compared with the ResEmoteNet teacher"


def printed(quantity: str, run: str, data: str) -> paper.Ref:
    return paper.TABLE_V[data][quantity].get(run, paper.NOT_IN_TABLE_V)


def columns(comparable: bool) -> list[Column]:
    def acc_text(r: Record) -> str:
        ours = r["_ours"]
        return cells.mean_std(r["_acc"], ours.acc_std if ours else None, seeds=ours.seeds if ours else 1)

    return [
        Column("model", lambda r: r["_label"], right=False),
        Column("MiB ours", lambda r: cells.num(r["_size"], absent=NOT_RUN)),
        Column("paper", lambda r: cells.ref(r["_size_ref"])),
        Column("Δ", lambda r: cells.delta(r["delta_size_mib"])),
        Column("acc % ours", acc_text),
        Column("paper", lambda r: cells.ref(r["_acc_ref"])),
        *([Column("Δ pp", lambda r: cells.delta(r["delta_acc_pp"]))] if comparable else []),
        Column("mem MiB ours", lambda r: cells.num(r["_mem"], absent=NOT_RUN)),
        Column("paper MB", lambda r: cells.ref(r["_mem_ref"])),
        Column("ms ours", lambda r: cells.num(r["_lat"], absent=NOT_RUN)),
        Column("paper", lambda r: cells.ref(r["_lat_ref"])),
    ]


# The other dataset's block: the paper's values only (Markdown; the CSV has them as paper_* columns).
PAPER_ONLY = [
    Column("model", lambda r: r["_label"], right=False),
    Column("acc %", lambda r: cells.ref(printed("accuracy", r["run"], r["_data"]))),
    Column("memory MB", lambda r: cells.ref(printed("memory_mb", r["run"], r["_data"]))),
    Column("ms", lambda r: cells.ref(printed("latency_ms", r["run"], r["_data"]))),
]


def _record(inputs: ReportInputs, run: str, label: str, dataset: str, comparable: bool) -> Record:
    model = student_of(run, inputs)
    bench = inputs.benchmarks.get(model) or {}
    ours = our_run(inputs, run)
    size = bench.get("size_mib_fp32")
    size_ref = paper.TABLE_V_SIZE.get(run, paper.NOT_IN_TABLE_V)
    acc = ours.acc if ours else None
    acc_ref = printed("accuracy", run, dataset)
    mem, lat = bench.get("peak_inference_memory_mib"), bench.get("latency_ms_b1")
    record = {"run": run, "model": model, "size_mib": nan(size), "paper_size_mib": nan(size_ref.value),
              "delta_size_mib": diff(size, size_ref), "test_acc": nan(acc)}
    for data in paper.TABLE_V:
        record[f"paper_acc_{data}"] = nan(printed("accuracy", run, data).value)
        record[f"paper_memory_mb_{data}"] = nan(printed("memory_mb", run, data).value)
        record[f"paper_latency_ms_{data}"] = nan(printed("latency_ms", run, data).value)
    record.update({"delta_acc_pp": diff(acc, acc_ref) if comparable else float("nan"),
                   "peak_inference_memory_mib": nan(mem), "latency_ms_b1": nan(lat),
                   "latency_ms_b1_p90": nan(bench.get("latency_ms_b1_p90")),
                   "onnx_latency_ms_b1": nan((bench.get("onnx") or {}).get("latency_ms_b1")),
                   "throughput_img_s": nan(bench.get("throughput_img_s")),
                   "gflops_per_image": nan(None if bench.get("flops_per_image") is None
                                           else bench["flops_per_image"] / 1e9),
                   "input_size": bench.get("input_size"), "device": bench_device(inputs, model),
                   "runtime": f"torch {bench_torch(inputs, model)}" if bench_torch(inputs, model) else None,
                   "memory_method": bench.get("memory_method")})
    record.update({"_label": label, "_ours": ours, "_acc": acc, "_size": size, "_size_ref": size_ref,
                   "_acc_ref": acc_ref, "_mem": mem, "_mem_ref": printed("memory_mb", run, dataset), "_lat": lat,
                   "_lat_ref": printed("latency_ms", run, dataset)})
    return record


@paper_table(NAME, TITLE, order=5, artifact="table-v-efficiency",
             artifact_title="Table V - size, FLOPs, memory, latency, throughput")
def table_v(inputs: ReportInputs) -> Table:
    """Size, accuracy, inference memory and latency of the teacher and the students, per dataset."""
    dataset = inputs.paper_dataset if inputs.paper_dataset in paper.TABLE_V else "FER2013"
    comparable = inputs.real_data and dataset == inputs.paper_dataset
    runs = efficiency_runs(inputs)
    records = [_record(inputs, run, label, dataset, comparable) for run, label in runs.items()]
    sections = [section(f"{dataset}: ours, {data_words(inputs)}, beside the paper", records, columns(comparable),
                        right=None)]
    for other in paper.TABLE_V:
        if other != dataset:
            others = [{"run": run, "_label": label, "_data": other} for run, label in runs.items()
                      if run in paper.TABLE_V_MODELS]
            sections.append(section(f"{other}: the paper's values (this run's data is not {other})", others,
                                    PAPER_ONLY))
    benches = inputs.benchmarks.values()
    devices = bench_devices(inputs)
    runtimes = sorted({f"torch {t}" for t in (bench_torch(inputs, name) for name in inputs.benchmarks) if t})
    methods = sorted({b["memory_method"] for b in benches if b.get("memory_method")})
    sizes = sorted({str(b.get("input_size")) for b in benches if b.get("input_size")})
    notes = [f"Ours: {', '.join(devices) or 'not benchmarked'} ({', '.join(runtimes) or 'n/a'}), batch 1 at "
             f"{'/'.join(sizes) or '?'} px; latency = median of batch-1 forwards (p90 and onnxruntime in the CSV). "
             f"Paper: {paper.PAPER_DEVICE}; batch size and input size not stated.",
             f"Memory, ours: {'; '.join(methods) or 'n/a'}. Memory, paper: \"Memory Usage (MB)\", method not stated "
             f"(the teacher's {cells.ref(paper.TABLE_V['FER2013']['memory_mb']['teacher'])} MB on FER2013 but "
             f"{cells.ref(paper.TABLE_V['RAF-DB']['memory_mb']['teacher'])} MB on RAF-DB suggests more than the "
             "model).",
             "Size = params x 4 / 2^20 (MiB; the paper's Table V \"MB\" is this unit). No Δ for memory and latency: "
             "different hardware and method. Accuracy as Table V prints it (= Table IV)."]
    return Table(NAME, TITLE, frame(records), sections, notes)
