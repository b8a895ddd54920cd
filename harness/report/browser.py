"""Headless Chromium (Debian's `chromium` package) as a check of the report page: the DOM it
rendered, a screenshot, and every network request the page itself made."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import HarnessError

CHROMIUM = Path("/usr/bin/chromium")
# The screenshot `harness report --screenshot` saves beside report.html.
REPORT_SCREENSHOT = "report-screenshot.png"
# Flags that keep a headless run quiet and self-contained on a server or in CI (root, no GPU,
# no first-run setup, no background fetches where the browser lets them be switched off).
# The browser still tries a few of its own requests (accounts, update and time checks) whatever
# the switches say, so every name fails to resolve and every http(s) request goes to a closed
# loopback port: nothing but 127.0.0.1 is ever contacted.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
         "--disable-client-side-phishing-detection", "--no-pings", "--no-default-browser-check",
         "--metrics-recording-only",
         "--disable-features=NetworkTimeServiceQuerying,OptimizationHintsFetching,Translate,"
         "MediaRouter,DialMediaRouteProvider,AutofillServerCommunication",
         "--proxy-server=127.0.0.1:9",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
         "--hide-scrollbars")
TIMEOUT_S = 90


@dataclass
class Rendered:
    dom: str
    requests: list[str]


def page_requests(net_log: Path) -> list[str]:
    """Requests whose network isolation key is the file:// page: what the page loaded, apart
    from the browser's own background traffic (update checks, accounts), which the flags do not
    fully silence."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        from_page = "file://" in params.get("network_isolation_key", "")
        if (event["type"] == start_job and from_page
                and not params.get("url", "").startswith(("file:", "data:"))):
            urls.append(params["url"])
    return urls


def render(url: str, screenshot: Path | None = None, size: str = "1280,2200") -> Rendered:
    if not CHROMIUM.exists():
        raise HarnessError(f"{CHROMIUM} is absent: `make chromium` installs it (as root)")
    with tempfile.TemporaryDirectory(prefix="harness-chromium-") as work:
        profile, net_log = Path(work) / "profile", Path(work) / "net-log.json"
        extra = [f"--screenshot={screenshot}", f"--window-size={size}"] if screenshot else []
        try:
            done = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}",
                                   f"--log-net-log={net_log}", "--dump-dom", *extra, url],
                                  capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"chromium did not finish rendering {url} in {TIMEOUT_S} s") \
                from None
        if done.returncode != 0:
            raise HarnessError(f"chromium failed on {url}: {done.stderr.strip()[-400:]}")
        rendered = Rendered(done.stdout, page_requests(net_log))
        shutil.rmtree(profile, ignore_errors=True)
    return rendered
