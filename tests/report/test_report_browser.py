"""The report opened in a real browser: headless Chromium (Debian's package, installed by
scripts/setup-test.sh) runs the page's script; the test reads the DOM it leaves and takes a
screenshot."""

import re
import shutil
import subprocess

import pytest

from stance.report import build_report
from stance.summaries import read_scores

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: run scripts/setup-test.sh")]


def _chromium(*args: str) -> str:
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def report(scored, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    build_report(scored, out, per_page=5)
    return out


def test_script_draws_highlighted_statements_and_the_charts_show(report, scored):
    dom = _chromium("--dump-dom", report.as_uri())
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert 'data-ready="1"' in body and 'data-shown="5"' in body and 'data-matching="8"' in body
    frame = read_scores(scored)
    first_five = frame[frame["doc_id"].isin(list(dict.fromkeys(frame["doc_id"]))[:5])]
    spans = re.findall(r'<span class="s st-(\w+) tn-(\w+)"[^>]*title="stance: \w+ \(\d\.\d\d\)', dom)
    assert spans == list(zip(first_five["stance"], first_five["tone"]))
    assert dom.count("<svg") == 2 and "Articles 1–5 of 8" in dom


def test_filters_from_the_address_work(report, scored):
    frame = read_scores(scored)
    threats = frame[frame["stance"] == "threat"]
    dom = _chromium("--dump-dom", report.as_uri() + "#stance=threat&actor=annika+brandt")
    lit = re.findall(r'<span class="s st-(\w+) tn-\w+"', dom)  # not dimmed: matching sentences
    brandt = threats[threats["actor_key"] == "annika brandt"]
    assert lit == ["threat"] * len(brandt)
    assert f'data-matching="{brandt["doc_id"].nunique()}"' in dom
    dom = _chromium("--dump-dom", report.as_uri() + "#stance=threat&page=2")
    assert f'data-matching="{threats["doc_id"].nunique()}"' in dom
    assert "page 2 of" in dom and 'class="s st-threat' in dom


def test_screenshot(report, tmp_path):
    shot = tmp_path / "report.png"
    _chromium("--window-size=1280,1800", f"--screenshot={shot}", report.as_uri())
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000  # a blank page is a few kB
