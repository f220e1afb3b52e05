"""Hosts on one machine for the multi-host orchestration test: Linux network namespaces on a private LAN.

`Lan` makes one network namespace per host, a bridge in the first host's namespace (host A) and one veth
pair from it to each other host, addressed in 10.231.<x>.0/24; there is no route anywhere else, so a
host reaches only the addresses of the namespaces made here. Processes run in a host with `Lan.exec`
(`ip netns exec`); `Lan.exec_hiding` also gives them a mount namespace of their own in which folders of
another host (its checkout, its DVC remote) are covered by an empty tmpfs, and a host name of their own
(a UTS namespace), so what they read of another host they can only read over the network.

Everything made here is removed on exit, on failure too: the processes of each namespace are killed and
the namespaces deleted (which deletes their veths and bridge). Names carry the creating process's pid
and a random part, so runs side by side never meet, and namespaces left by a killed test run (its pid
gone) are swept by the next one.
"""

from __future__ import annotations

import ctypes
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Sequence

NAME_PREFIX = "mrn"  # Mini-ResEmoteNet: namespaces named mrn<pid>-<random>-<host>
SUBNET = "10.231"
CLONE_NEWNET = 0x40000000
IFACE = "eth0"  # each non-A host's end of its veth pair


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"`ip {' '.join(args)}` exited {done.returncode}: {done.stderr.strip()}")
    return done


def unavailable() -> str | None:
    """Why network namespaces, veth pairs and private mounts cannot be made here (None: they can)."""
    if os.geteuid() != 0:
        return "needs root: network namespaces, veth pairs and tmpfs mounts (.ci/run runs as root)"
    for tool in ("ip", "unshare", "mount"):
        if shutil.which(tool) is None:
            return f"no `{tool}` on PATH (Debian: iproute2, util-linux, mount)"
    probe = f"{NAME_PREFIX}{os.getpid()}-probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"cannot create a network namespace (`ip netns add`: {made.stderr.strip()}); an unprivileged container?"
    try:
        veth = _ip("-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1", check=False)
        if veth.returncode != 0:
            return f"cannot create a veth pair in a network namespace: {veth.stderr.strip()}"
        with tempfile.TemporaryDirectory(prefix="mrn-mount-") as folder:
            mount = subprocess.run(["ip", "netns", "exec", probe, "unshare", "--mount", "--uts", "--propagation",
                                    "private", "sh", "-c", f"mount -t tmpfs none {shlex.quote(folder)} && hostname probe"],
                                   capture_output=True, text=True, timeout=30)
        if mount.returncode != 0:
            return f"cannot mount a tmpfs in a private mount namespace: {mount.stderr.strip()}"
    finally:
        _ip("netns", "del", probe, check=False)
    return None


def netns_pids(namespace: str) -> list[int]:
    done = _ip("netns", "pids", namespace, check=False)
    return [int(pid) for pid in done.stdout.split()] if done.returncode == 0 else []


def kill_namespace_processes(namespace: str, rounds: int = 5) -> list[int]:
    """SIGSTOP then SIGKILL every process in `namespace` (frozen first: none can start a child meanwhile),
    as when the machine dies; repeated until none is left. Returns the pids killed."""
    killed: list[int] = []
    for _ in range(rounds):
        pids = netns_pids(namespace)
        if not pids:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        killed.extend(pids)
        time.sleep(0.2)
    return killed


def sweep_stale() -> list[str]:
    """Delete namespaces of this naming scheme whose creating process is gone (a test run killed outright)."""
    removed = []
    for name in _ip("netns", "list", check=False).stdout.split():
        match = re.fullmatch(rf"{NAME_PREFIX}(\d+)-\w+-\w+", name)
        if not match:
            continue
        try:
            os.kill(int(match.group(1)), 0)
            continue  # its test run is alive
        except ProcessLookupError:
            pass
        kill_namespace_processes(name)
        _ip("netns", "del", name, check=False)
        removed.append(name)
    return removed


def enter_netns(namespace: str) -> None:
    """Move the calling thread (only it: a network namespace is per thread) into `namespace`."""
    fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns({namespace}): {os.strerror(errno)}")
    finally:
        os.close(fd)


class Lan:
    """Hosts `names` (the first one, A, holds the bridge) on 10.231.<x>.0/24: A is .1, the others .2, .3, ..."""

    def __init__(self, names: Sequence[str] = ("a", "b", "c")):
        self.names = list(names)
        tag = f"{NAME_PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        self.namespaces = {name: f"{tag}-{name}" for name in self.names}
        self.subnet = f"{SUBNET}.{secrets.randbelow(250) + 1}"  # any: the namespaces share nothing with the host
        self.addresses = {name: f"{self.subnet}.{i + 1}" for i, name in enumerate(self.names)}
        self._threads: dict[str, ThreadPoolExecutor] = {}
        self._made: list[str] = []

    # -- life cycle ------------------------------------------------------------------------------
    def __enter__(self) -> "Lan":
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def up(self) -> None:
        sweep_stale()
        hub, *others = self.names
        for name in self.names:
            _ip("netns", "add", self.namespaces[name])
            self._made.append(self.namespaces[name])
            _ip("-n", self.namespaces[name], "link", "set", "lo", "up")
        a = self.namespaces[hub]
        _ip("-n", a, "link", "add", "br0", "type", "bridge")
        _ip("-n", a, "addr", "add", f"{self.addresses[hub]}/24", "dev", "br0")
        _ip("-n", a, "link", "set", "br0", "up")
        for name in others:
            port = f"v{name}"
            _ip("-n", a, "link", "add", port, "type", "veth", "peer", "name", IFACE, "netns", self.namespaces[name])
            _ip("-n", a, "link", "set", port, "master", "br0")
            _ip("-n", a, "link", "set", port, "up")
            _ip("-n", self.namespaces[name], "addr", "add", f"{self.addresses[name]}/24", "dev", IFACE)
            _ip("-n", self.namespaces[name], "link", "set", IFACE, "up")
        for name in others:
            self.wait_reachable(name, self.addresses[hub])

    def down(self) -> None:
        for pool in self._threads.values():
            pool.shutdown(wait=False, cancel_futures=True)
        self._threads.clear()
        for namespace in reversed(self._made):
            kill_namespace_processes(namespace)
            _ip("netns", "del", namespace, check=False)
        self._made.clear()

    # -- running things in a host --------------------------------------------------------------------
    def exec(self, host: str, args: Sequence[str]) -> list[str]:
        """`args` as a command run in `host`'s network namespace."""
        return ["ip", "netns", "exec", self.namespaces[host], *args]

    def exec_hiding(self, host: str, hidden: Iterable[Path], args: Sequence[str]) -> list[str]:
        """`args` run in `host`'s network namespace, in a mount namespace of its own where each `hidden` folder
        is covered by an empty tmpfs, and a UTS namespace whose host name is `host-<host>`. The command execs
        (same pid), and its children inherit all three namespaces."""
        mounts = "".join(f"mount -t tmpfs -o size=1m mrn-hidden {shlex.quote(str(path))} && " for path in hidden)
        script = f'hostname "$0" && {mounts}exec "$@"'
        return self.exec(host, ["unshare", "--mount", "--uts", "--propagation", "private",
                                "sh", "-c", script, f"host-{host}", *args])

    def run(self, host: str, args: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 120)
        return subprocess.run(self.exec(host, args), **kwargs)

    def in_host(self, host: str, fn: Callable, *args, **kwargs):
        """Call `fn` in a thread of this process that lives in `host`'s network namespace (e.g. API calls)."""
        if host not in self._threads:
            self._threads[host] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"netns-{host}",
                                                     initializer=enter_netns, initargs=(self.namespaces[host],))
        return self._threads[host].submit(fn, *args, **kwargs).result()

    def pids(self, host: str) -> list[int]:
        return netns_pids(self.namespaces[host])

    def kill_all(self, host: str) -> list[int]:
        """Kill every process of `host`'s namespace, frozen first: the machine is gone."""
        return kill_namespace_processes(self.namespaces[host])

    def set_link(self, host: str, up: bool) -> None:
        """Plug or unplug `host`'s only network cable (its veth end)."""
        _ip("-n", self.namespaces[host], "link", "set", IFACE, "up" if up else "down")

    def wait_reachable(self, host: str, address: str, port: int | None = None, timeout_s: float = 30) -> None:
        """Wait until `host` has a route to `address` (and, with `port`, something listens there)."""
        def probe() -> bool:
            if port is None:
                return _ip("-n", self.namespaces[host], "route", "get", address, check=False).returncode == 0
            try:
                socket.create_connection((address, port), timeout=1).close()
                return True
            except OSError:
                return False

        deadline = time.monotonic() + timeout_s
        while not self.in_host(host, probe):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{address}{f':{port}' if port else ''} not reachable from host {host} "
                                   f"within {timeout_s} s")
            time.sleep(0.2)
