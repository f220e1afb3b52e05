"""Headless Chromium driven over its DevTools pipe, with the standard library alone: what proves that a
report's video plays and that a click seeks it, and that the Prefect UI shows a run's stage items (tests),
and what takes the docs' screenshots.

Chromium started with ``--remote-debugging-pipe`` reads DevTools commands on file descriptor 3 and
answers on 4, one JSON message per NUL-terminated chunk; no port, no websocket, no driver to install.
Clicks are real mouse events at an element's place on the page, so a link or an image map is
exercised as a user's click would.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
         "--autoplay-policy=no-user-gesture-required", "--allow-file-access-from-files")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """One headless browser with one page; use as a context manager."""

    def __init__(self, exe: str | None = None, width: int = 1400, height: int = 1000, timeout_s: float = 60.0):
        exe = exe or find_chromium()
        if exe is None:
            raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
        self.timeout_s = timeout_s
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def descriptors() -> None:
            """In the child: fd 3 reads our commands, fd 4 carries the answers. Both ends are first moved above
            4 so neither is overwritten; dup2 makes 3 and 4 inheritable, every other descriptor Python opened
            is not (PEP 446), so the browser gets exactly these two."""
            high_r, high_w = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen([exe, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}",
                                         "about:blank"], close_fds=False, preexec_fn=descriptors,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer, self._id = b"", 0
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.page("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                             "mobile": False})
        except BaseException:
            self.close()
            raise

    # -- the protocol ----------------------------------------------------------------------------------
    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """One DevTools command; its result (events that arrive meanwhile are dropped)."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._receive(deadline, method)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"chromium: {method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    def page(self, method: str, params: dict | None = None) -> dict:
        return self.send(method, params, self.session)

    def _receive(self, deadline: float, method: str) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError(f"chromium did not answer {method} within {self.timeout_s:g} s")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited (code {self.process.poll()}) during {method}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    # -- what tests and scripts use --------------------------------------------------------------------
    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"javascript error in {expression!r}: {result['exceptionDetails'].get('text')} "
                               f"{result['exceptionDetails'].get('exception', {}).get('description', '')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float | None = None, what: str | None = None):
        """Poll ``expression`` until it is truthy; its value. A page that is still loading is waited for."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(expression)
            except RuntimeError as exc:  # a navigation replaced the page under us: try again
                last = str(exc)
            else:
                if last:
                    return last
            time.sleep(0.05)
        raise TimeoutError(f"{what or expression} not true within {timeout_s or self.timeout_s:g} s (last: {last!r})")

    def open(self, url: str) -> None:
        """Navigate and wait until the document and its images have loaded."""
        self.page("Page.navigate", {"url": url})
        self.wait_for(f"location.href.split('#')[0] === {json.dumps(url.split('#')[0])} && "
                      "document.readyState === 'complete'", what=f"loading {url}")

    def click(self, selector: str, fx: float = 0.5, fy: float = 0.5) -> tuple[float, float]:
        """A real mouse click at (fx, fy) of the element's box (scrolled into view); the point clicked."""
        box = self.wait_for(f"""(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;
            e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();
            return r.width > 0 ? [r.left, r.top, r.width, r.height] : null; }})()""", what=f"{selector} on the page")
        x, y = box[0] + fx * box[2], box[1] + fy * box[3]
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.page("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
        return x, y

    def screenshot(self, path: str | os.PathLike, full_page: bool = True) -> Path:
        """PNG of the viewport, or of the whole page."""
        params: dict = {"format": "png"}
        if full_page:
            size = self.page("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        data = base64.b64decode(self.page("Page.captureScreenshot", params)["data"])
        path = Path(path)
        path.write_bytes(data)
        return path

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("Browser.close")
            except (RuntimeError, TimeoutError, OSError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
