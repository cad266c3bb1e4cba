"""The judging page in a real headless Chromium: keys grade, skip and go back; every grade is in the qrels at once,
and survives the judge being killed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chromium import SHOTS, WAIT_S, chromium, require_browser
from eval.datasets import read_qrels
from eval.judging import Judging
from eval.pool import PoolItem, write_pool
from live_server import serving_app

pytestmark = pytest.mark.e2e
require_browser()
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from page_driver import RENDERING  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ITEMS = [PoolItem("q1", "讲师团为谁充电", "d2", "驿站", "工会为外卖配送员建起暖心驿站。\n驿站里有热水。", ["bm25"], 1, "2026-01-05"),
         PoolItem("q2", "外卖配送员驿站", "d1", "工匠学院", "工匠学院直通车开到生产一线。", ["dense"], 2),
         PoolItem("q4", "没有判断的问题", "d3", "游戏", "遊戲由韓國公司開發與發行。", ["hybrid"], 1)]


def test_keys_grade_skip_and_go_back_and_each_grade_is_in_the_qrels(dataset):
    judging = Judging.of_dataset(dataset, ITEMS)
    qrels = dataset / "qrels" / "test.tsv"
    try:
        from api.judge_app import create_judge_app

        with serving_app(create_judge_app(judging), "judge-page", "/api/state") as base, chromium() as driver:
            driver.set_window_size(1280, 900)
            driver.get(base + "/")
            wait = WebDriverWait(driver, WAIT_S, ignored_exceptions=RENDERING)
            text = lambda element_id: driver.find_element(By.ID, element_id).text  # noqa: E731
            wait.until(lambda d: text("query") == "讲师团为谁充电")
            assert text("title") == "驿站" and "暖心驿站" in text("text") and text("date") == "2026-01-05"
            assert "0 / 3" in text("progress")
            body = driver.find_element(By.TAG_NAME, "body")
            body.send_keys("2")
            wait.until(lambda d: text("query") == "外卖配送员驿站")
            assert read_qrels(qrels)["q1"]["d2"] == 2  # on disk before the page moved on
            assert "1 / 3" in text("progress")
            body.send_keys("s")
            wait.until(lambda d: text("query") == "没有判断的问题")
            body.send_keys("b")
            wait.until(lambda d: text("query") == "外卖配送员驿站")
            body.send_keys("0")
            wait.until(lambda d: text("query") == "没有判断的问题")
            driver.set_window_size(390, 844)  # a phone: the grade buttons stay on screen, a tap grades
            SHOTS.mkdir(exist_ok=True)
            driver.save_screenshot(str(SHOTS / "judge-phone.png"))
            driver.find_element(By.CSS_SELECTOR, "#keys button[data-grade='1']").click()
            wait.until(lambda d: d.find_element(By.ID, "done").is_displayed())
    finally:
        judging.close()
    assert read_qrels(qrels) == {"q1": {"d1": 1, "d2": 2}, "q2": {"d2": 1, "d1": 0}, "q3": {"d3": 1},
                                 "q4": {"d3": 1}}


def test_a_killed_judge_loses_no_grade_and_the_next_one_goes_on(dataset, tmp_path):
    pool = tmp_path / "pool.jsonl"
    write_pool(ITEMS, pool)

    def start() -> tuple[subprocess.Popen, str]:
        """The judge in its own process on a free port (port 0: the one it prints)."""
        log_path = tmp_path / f"judge-{time.monotonic_ns()}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "api.cli", "judge", str(dataset), "--pool", str(pool),
                                     "--port", "0"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90  # a loaded 2-core machine
        while time.monotonic() < deadline and proc.poll() is None:
            printed = re.search(r"open (http://127\.0\.0\.1:\d+)/ ", log_path.read_text(errors="replace"))
            try:
                if printed and httpx.get(printed.group(1) + "/api/state", timeout=2).status_code == 200:
                    return proc, printed.group(1)
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        proc.kill()
        proc.wait()
        pytest.fail(f"the judge did not start: {log_path.read_text()}")

    proc, base = start()
    busy = subprocess.run([sys.executable, "-m", "api.cli", "judge", str(dataset), "--pool", str(pool),
                           "--port", "0"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert busy.returncode == 2 and "another `zhsearch judge`" in busy.stderr + busy.stdout
    assert httpx.post(base + "/api/grade", json={"position": 0, "grade": 2}).status_code == 200
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert read_qrels(dataset / "qrels" / "test.tsv")["q1"]["d2"] == 2
    proc, base = start()  # the lock went with the killed process
    try:
        assert httpx.get(base + "/api/state").json()["item"]["doc_id"] == "d1"
        stale = httpx.post(base + "/api/grade", json={"position": 0, "grade": 1})
        assert stale.status_code == 409 and "reload" in stale.json()["message"]
    finally:
        proc.kill()
        proc.wait()
