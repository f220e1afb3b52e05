"""Checks the coordinator makes before it starts a flow, so a network fault is named once, with its address
and what to check, instead of surfacing later as a cancelled run or as Prefect's retried tracebacks.

The Prefect API (when ``PREFECT_API_URL`` names one), and for runs on workers the git URL they clone and the
DVC remote they exchange files through: all three are what a worker on another host needs from this one.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

TIMEOUT_S = 10.0
# Never prompt (a refused key is an error, not a password prompt), and give up on a dead host quickly.
SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(TIMEOUT_S)}")


class Unreachable(RuntimeError):
    """A server, repository or remote the run needs does not answer, or refuses."""


def check_server(api_url: str | None = None, timeout_s: float = TIMEOUT_S) -> None:
    """The Prefect API at ``api_url`` (default: ``PREFECT_API_URL``; unset = an ephemeral local server) answers."""
    import httpx

    url = api_url if api_url is not None else os.environ.get("PREFECT_API_URL")
    if not url:
        return
    health = url.rstrip("/") + "/health"
    try:
        response = httpx.get(health, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise Unreachable(f"the Prefect server at {url} does not answer ({type(exc).__name__}: {exc}); check that "
                          "`uv run prefect server start` runs there, that the host and port are reachable from "
                          "here, and that PREFECT_API_URL is right") from None
    if response.status_code != 200:
        raise Unreachable(f"the Prefect server at {url} answered {health} with HTTP {response.status_code}; "
                          "check that PREFECT_API_URL ends in /api and points at a Prefect server")


def _ssh() -> list[str]:
    """The SSH command git uses here (``GIT_SSH_COMMAND``, else ``ssh``) with :data:`SSH_OPTIONS`."""
    return [*shlex.split(os.environ.get("GIT_SSH_COMMAND") or "ssh"), *SSH_OPTIONS]


def check_git(repo_url: str, timeout_s: float = 3 * TIMEOUT_S) -> None:
    """Workers can clone ``repo_url``: `git ls-remote` reaches it (over SSH without prompting)."""
    env = {**os.environ, "GIT_SSH_COMMAND": shlex.join(_ssh()), "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(["git", "ls-remote", "--heads", repo_url], capture_output=True, text=True,
                              timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        raise Unreachable(f"the git repository {repo_url} did not answer within {timeout_s:.0f} s; check the host "
                          "and port") from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise Unreachable(f"the git repository {repo_url} cannot be read ({said}); check "
                          + ("the SSH login (`ssh -o BatchMode=yes HOST` must log in with a key) and "
                             if "://" in repo_url or ":" in repo_url.split("/", 1)[0] else "")
                          + "that the repository exists at that path")


def _creatable(path: Path) -> Path | None:
    """None when ``path`` is a folder or can be made one (DVC creates a missing remote folder on its first push);
    else the nearest existing ancestor that stops it (a file, or a folder this user cannot write)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return None if probe.is_dir() and os.access(probe, os.W_OK) else probe


# The same test over SSH, as a shell line on the remote host: walk up to what exists, then is it a writable folder?
_CREATABLE_SH = 'p={path}; while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done; [ -d "$p" ] && [ -w "$p" ]'


def check_remote(remote_url: str, timeout_s: float = 3 * TIMEOUT_S) -> None:
    """The DVC remote can be used: a local folder that exists or can be created, or over ``ssh://`` the same
    seen through the SSH login (which must not prompt)."""
    parts = urlsplit(remote_url)
    if parts.scheme in ("", "file"):
        path = Path(parts.path if parts.scheme else remote_url)
        blocker = _creatable(path)
        if blocker is not None:
            raise Unreachable(f"the DVC remote {remote_url} cannot be created ({blocker} is not a writable folder); "
                              "fix the remote (`uv run dvc remote list`) or its permissions")
        return
    if parts.scheme != "ssh":
        return  # s3://, gs://, ...: DVC names their faults itself
    target = (f"{parts.username}@" if parts.username else "") + (parts.hostname or "")
    command = [*_ssh(), *(["-p", str(parts.port)] if parts.port else []), target,
               _CREATABLE_SH.format(path=shlex.quote(parts.path or "."))]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise Unreachable(f"the DVC remote {remote_url}: {target} did not answer within {timeout_s:.0f} s") from None
    if done.returncode == 255:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise Unreachable(f"the DVC remote {remote_url}: SSH to {target} failed ({said}); check the key "
                          f"(`ssh -o BatchMode=yes {target}` must log in) and the port")
    if done.returncode != 0:
        raise Unreachable(f"the DVC remote {remote_url} cannot be created on {target} (no writable folder on the "
                          f"way to {parts.path}); fix the remote (`uv run dvc remote list`) or its permissions there")
