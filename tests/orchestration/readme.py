"""README's "Run it on one machine" commands, as written, for the tests to run.

The only substitutions are the ones a test needs to run beside other servers and users:
`uv run ` (this test's environment is first on PATH instead), port 4200 (a free port) and the
remote folder (a temporary one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "### Run it on one machine"
README_PORT = "4200"
README_REMOTE = "/tmp/mini-resemotenet-dvc-remote"


@dataclass(frozen=True)
class ReadmeCommands:
    exports: str  # the `export ...` line, run before each command
    setup: list[str]  # remote, config, pool, deployment
    server: str
    workers: list[str]
    runs: list[str]  # the pipeline commands and the final `dvc status`


def readme_commands(port: int, remote: Path) -> ReadmeCommands:
    """The section's bash block, split by role, with the port and remote substituted."""
    text = README.read_text()
    block = re.search(r"```bash\n(.*?)```", text[text.index(SECTION):], re.S).group(1)
    lines = []
    for raw in block.splitlines():
        line = raw.split("  #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line.replace(README_PORT, str(port)).replace(README_REMOTE, str(remote)).replace("uv run ", ""))
    exports = [line for line in lines if line.startswith("export ")]
    server = [line for line in lines if "prefect server start" in line]
    workers = [line for line in lines if "prefect worker start" in line]
    runs = [line for line in lines if "pipeline.orchestration.flows" in line or line == "dvc status"]
    setup = [line for line in lines if line not in {*exports, *server, *workers, *runs}]
    assert len(exports) == 1 and len(server) == 1 and workers and runs, lines
    return ReadmeCommands(exports[0], setup, server[0], workers, runs)
