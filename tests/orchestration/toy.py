"""A toy DVC project (real git, real DVC, local directory remote) for the orchestration tests.

make_data -> item@a, item@b (foreach; optionally a barrier both must reach) -> flaky -> big -> summary.
`flaky` fails on its first attempt and succeeds afterwards (a marker file outside the workspace);
`big` writes a `cache: false` file of `big_mb` MB that `summary` reads (stage files of any size travel).
Every output is a function of params.yaml alone, so two runs of one commit write the same bytes.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from tests.helpers import dvc, git

SCRIPTS = {
    "src/make_data.py": """
        import os
        import yaml
        params = yaml.safe_load(open("params.yaml"))
        os.makedirs("data", exist_ok=True)
        open("data/base.txt", "w").write("\\n".join(str(i * params["scale"]) for i in range(5)) + "\\n")
    """,
    "src/item.py": """
        import json, os, sys, time
        import yaml
        key = sys.argv[1]
        params = yaml.safe_load(open("params.yaml"))
        time.sleep(params["items"][key].get("sleep_s", params["sleep_s"]))  # an item's own, else every item's
        if params["barrier_dir"]:  # wait (at most 120 s) until every item has started: proves concurrency
            os.makedirs(params["barrier_dir"], exist_ok=True)
            open(os.path.join(params["barrier_dir"], key), "w").close()
            deadline = time.time() + 120  # a worker on a loaded 2-core machine takes a minute to set up
            while not set(params["items"]) <= set(os.listdir(params["barrier_dir"])) and time.time() < deadline:
                time.sleep(0.1)
            if not set(params["items"]) <= set(os.listdir(params["barrier_dir"])):
                sys.exit(f"item {key}: the other items did not start within 120 s")
        total = sum(int(line) for line in open("data/base.txt")) * params["items"][key]["n"]
        os.makedirs("out", exist_ok=True); os.makedirs("metrics", exist_ok=True)
        open(f"out/{key}.txt", "w").write(f"{key} {total}\\n")
        json.dump({"total": total}, open(f"metrics/{key}.json", "w"))  # no times: a re-run writes the same bytes
    """,
    "src/tally.py": """
        import os
        os.makedirs("tally", exist_ok=True)
        open("tally/a.txt", "w").write(open("out/a.txt").read().upper())
    """,
    "src/flaky.py": """
        import os, sys
        import yaml
        marker = yaml.safe_load(open("params.yaml"))["flaky_marker"]
        if not os.path.exists(marker):
            open(marker, "w").write("failed once\\n")
            print("flaky: first attempt fails on purpose", file=sys.stderr)
            sys.exit(3)
        open("flaky.txt", "w").write("".join(open(f"out/{name}").read().upper() for name in sorted(os.listdir("out"))))
    """,
    "src/big.py": """
        import os, random
        import yaml
        size = int(yaml.safe_load(open("params.yaml"))["big_mb"] * 1024 * 1024)
        os.makedirs("big", exist_ok=True)
        open("big/blob.bin", "wb").write(random.Random(0).randbytes(size))  # incompressible
    """,
    "src/summary.py": """
        import hashlib, json, os
        totals = {name[:-5]: json.load(open(f"metrics/{name}"))["total"] for name in sorted(os.listdir("metrics"))}
        os.makedirs("reports/tables", exist_ok=True)
        blob = hashlib.sha256(open("big/blob.bin", "rb").read()).hexdigest()
        json.dump({"totals": totals, "flaky_lines": len(open("flaky.txt").readlines()), "blob_sha256": blob}, open("summary.json", "w"))
        rows = "\\n".join(f"| {k} | {v} |" for k, v in totals.items())
        open("reports/tables/table4_accuracy.md", "w").write("| item | total |\\n|---|---|\\n" + rows + "\\n")
        open("reports/tables/table4_accuracy.csv", "w").write("item,total\\n" + "".join(f"{k},{v}\\n" for k, v in totals.items()))
    """,
}

DVC_YAML = """
stages:
  make_data:
    cmd: python src/make_data.py
    deps: [src/make_data.py]
    params: [scale]
    outs: [data/base.txt]
  item:
    foreach: ${items}
    do:
      cmd: python src/item.py ${key}
      deps: [src/item.py, data/base.txt]
      params:
        - items.${key}
        - sleep_s
      outs:
        - out/${key}.txt
      metrics:
        - metrics/${key}.json:
            cache: false
  flaky:
    cmd: python src/flaky.py
    deps: [src/flaky.py, out]
    params: [flaky_marker]
    outs: [flaky.txt]
  big:
    cmd: python src/big.py
    deps: [src/big.py, flaky.txt]
    params: [big_mb]
    outs:
      - big/blob.bin:
          cache: false
  summary:
    cmd: python src/summary.py
    deps: [src/summary.py, metrics, flaky.txt, big/blob.bin]
    outs:
      - summary.json:
          cache: false
      - reports/tables:
          cache: false
"""

# with follower=True: a stage that waits for item@a alone, so it rides in item@a's worker run (a follower)
TALLY_STAGE = """
  tally_a:
    cmd: python src/tally.py
    deps: [src/tally.py, out/a.txt]
    outs: [tally/a.txt]
"""

STAGES = ["make_data", "item@a", "item@b", "flaky", "big", "summary"]


def make_toy_project(root: Path, sleep_s: float = 0.0, barrier: bool = False, big_mb: float = 0.01,
                     follower: bool = False, item_sleep_s: dict[str, float] | None = None) -> Path:
    """Create and commit the toy project in `root/repo` with its remote in `root/remote`; return the repo path.

    follower: add `tally_a` (TALLY_STAGE), item@a's follower. item_sleep_s: an item's own sleep instead of `sleep_s`.

    barrier: each foreach item waits until all items have started, and fails after 120 s without them (they must
    run concurrently); once all have, the barrier stays open (for a later `dvc repro` of the same commit).
    """
    repo = root / "repo"
    repo.mkdir(parents=True)
    for rel, body in SCRIPTS.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(textwrap.dedent(body).lstrip())
    (repo / "dvc.yaml").write_text(DVC_YAML.lstrip() + (TALLY_STAGE if follower else ""))
    items = {"a": {"n": 1}, "b": {"n": 3}}
    for key, seconds in (item_sleep_s or {}).items():
        items[key]["sleep_s"] = seconds
    params = {"scale": 2, "sleep_s": sleep_s, "items": items,
              "flaky_marker": str(root / "flaky.marker"), "big_mb": big_mb, "barrier_dir": str(root / "barrier") if barrier else ""}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "test")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    dvc(repo, "remote", "add", "-d", "local", str(root / "remote"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "toy pipeline")
    return repo
