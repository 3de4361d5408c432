"""Headless Chromium for tests of the HTML pages: screenshots and a network-request check.

Mark a test that needs Chromium with ``browser_test`` and ``pytest.mark.browser`` (or set
``pytestmark = browser`` in a module); it skips with a reason
when no Chromium is installed (``apt-get install -y chromium`` on Debian).

    from browser import browser_test, external_requests, screenshot

    @browser_test
    @pytest.mark.browser
    def test_page(tmp_path): ...


Network requests are read from Chromium's JSON net log (``--log-net-log``), keeping only the
requests the page made (the browser's own background traffic is told apart by its initiator).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome:", "chrome-extension:", "devtools:")

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--hide-scrollbars",
    "--run-all-compositor-stages-before-draw",
]


def chromium_path() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


browser_test = pytest.mark.skipif(
    chromium_path() is None,
    reason="headless Chromium not found: apt-get install -y chromium to run browser tests",
)
browser = [pytest.mark.browser, browser_test]


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    exe = chromium_path()
    if exe is None:
        pytest.skip("headless Chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="harness-chromium-") as profile:
        cmd = [exe, *_FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def screenshot(
    html_path: Path,
    png_path: Path,
    width: int = 1280,
    height: int = 900,
    timeout: float = 60,
    fragment: str = "",
) -> Path:
    """Load ``html_path`` (plus ``#fragment`` if given) in headless Chromium and save a PNG of
    the viewport at ``png_path``."""
    png_path = Path(png_path).resolve()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.unlink(missing_ok=True)
    proc = _run(
        [
            f"--screenshot={png_path}",
            f"--window-size={width},{height}",
            "--virtual-time-budget=3000",
            Path(html_path).resolve().as_uri() + (f"#{fragment}" if fragment else ""),
        ],
        timeout,
    )
    if not png_path.exists():
        raise RuntimeError(
            f"Chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
        )
    return png_path


def _start_jobs(html_path: Path, timeout: float) -> list[dict]:
    """The ``URL_REQUEST_START_JOB`` params (url, initiator...) from a net log of one page load."""
    with tempfile.TemporaryDirectory(prefix="harness-netlog-") as tmp:
        log = Path(tmp) / "net.json"
        _run(
            [
                f"--log-net-log={log}",
                "--net-log-capture-mode=Default",
                "--virtual-time-budget=3000",
                "--dump-dom",
                Path(html_path).resolve().as_uri(),
            ],
            timeout,
        )
        if not log.exists():
            raise RuntimeError("Chromium wrote no net log; cannot tell which requests were made")
        raw = log.read_text(encoding="utf-8", errors="replace").rstrip().rstrip(",")
    if not raw.endswith("}"):  # a log cut off at exit lacks its closing brackets
        raw += "]}"
    data = json.loads(raw)
    kind = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]
        for e in data.get("events", [])
        if e.get("type") == kind and "url" in (e.get("params") or {})
    ]


def page_requests(html_path: Path, timeout: float = 60) -> list[str]:
    """Every URL the page itself asked for while loading (the browser's own update or sign-in
    traffic, whose initiator is "not an origin" and not the file page, is left out)."""
    urls: list[str] = []
    for params in _start_jobs(html_path, timeout):
        from_page = params.get("initiator") != "not an origin" or "file://" in str(
            params.get("network_isolation_key", "")
        )
        if from_page and params["url"] not in urls:
            urls.append(params["url"])
    return urls


def external_requests(html_path: Path, timeout: float = 60) -> list[str]:
    """URLs the page requested while loading that are not local (file:, data:, ...)."""
    return [u for u in page_requests(html_path, timeout) if not u.startswith(LOCAL_SCHEMES)]
