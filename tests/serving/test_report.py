"""The vetting report, opened in headless Chromium through chromedriver (WebDriver over HTTP)."""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess

import httpx
import numpy as np
import pytest

from serving.report import write_report

XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def _chromium() -> tuple[str, str]:
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chrome and driver:
        return chrome, driver
    reason = "chromium and chromium-driver are not installed (apt-get install chromium ...)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture()
def browser(tmp_path, free_port, wait_until_up):
    """A chromedriver session of headless Chromium; yields a function calling its endpoints."""
    chrome, driver = _chromium()
    port = free_port()
    log = open(tmp_path / "chromedriver.log", "w")
    proc = subprocess.Popen([driver, f"--port={port}"], stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(
        proc,
        lambda: httpx.get(f"{base}/status", timeout=1).json()["value"]["ready"],
        "chromedriver",
        timeout=30,
        not_yet=(httpx.TransportError, ValueError, KeyError),
        log=tmp_path / "chromedriver.log",
    )
    caps = {
        "capabilities": {
            "alwaysMatch": {
                "goog:chromeOptions": {
                    "binary": chrome,
                    "args": [
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--window-size=1000,1400",
                    ],
                }
            }
        }
    }
    session = httpx.post(f"{base}/session", json=caps, timeout=60).json()["value"]["sessionId"]

    def call(method: str, path: str, payload: dict | None = None):
        url = f"{base}/session/{session}{path}"
        r = httpx.request(method, url, json=payload, timeout=60)
        r.raise_for_status()
        return r.json()["value"]

    try:
        yield call
    finally:
        httpx.delete(f"{base}/session/{session}", timeout=30)
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_report_renders_and_does_not_run_user_scripts(browser, tmp_path, world_tables, scorer):
    import matplotlib.image

    tables = {k: v.copy() for k, v in world_tables.items()}
    creator = tables["creators"]["creator_id"][0]
    tables["creators"].loc[0, "bio"] = XSS
    from training.simulate import World, WorldConfig, write_world

    write_world(World(WorldConfig(n_creators=60), tables), tmp_path / "in", tmp_path / "lab")
    brand = tables["brands"]["brand_id"][0]
    out = write_report(tmp_path / "in", creator, tmp_path / "r.html", scorer, brand=brand)
    page = out.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'src="http' not in page and "<link" not in page  # no external assets

    browser("POST", "/url", {"url": out.as_uri()})
    title = browser("GET", "/title")
    assert title == f"Vetting report: {creator}"
    pwned = browser("POST", "/execute/sync", {"script": "return window.__pwned;", "args": []})
    assert pwned is None
    shown = browser(
        "POST", "/execute/sync", {"script": "return document.body.innerText;", "args": []}
    )
    assert "window.__pwned = 1" in shown  # the bio is shown as text
    images = browser(
        "POST",
        "/execute/sync",
        {
            "script": "return [...document.images].filter(i => i.naturalWidth > 0).length;",
            "args": [],
        },
    )
    assert images >= 5  # growth, engagement, posts, audience, topics
    png = base64.b64decode(browser("GET", "/screenshot"))
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 100 and float(np.std(pixels[..., :3])) > 0.05  # not blank
