"""`corpus rate serve` in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium):
name, one document at a time with the rubric, ratings by key and by click, a note, skip, progress, the Delta
table written through the import path, and a restart that carries on where the rater stopped."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import polars as pl
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")
N_DOCS = 4


@pytest.fixture
def warehouse(sample_warehouse, tmp_path):
    copy = tmp_path / "warehouse"
    shutil.copytree(sample_warehouse, copy, ignore=shutil.ignore_patterns("_dagster", "_reports"))
    return copy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`corpus rate serve` as a user starts it, in its own process group (stopped by its pid)."""

    def __init__(self, warehouse, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "corpus_assets.cli", "rate", "serve", "--warehouse", str(warehouse),
             "--port", str(self.port), "--n", str(N_DOCS), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"corpus rate serve did not start: {self.process.stdout.read()}") from None
                time.sleep(0.2)

    def post(self, path: str, payload: dict) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for a driver online
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def ratings(warehouse) -> pl.DataFrame:
    return pl.read_delta(str(warehouse / "quality_ratings")).sort("rated_at")


def wait_for(driver, condition, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def text(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).text


def press(driver, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


@needs_chromium
def test_rating_page_in_headless_chromium(warehouse, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    server = Server(warehouse)
    try:
        browser.get(server.url + "/")
        assert "Type your name" in text(browser, "ask-name")
        assert "Rating rubric" in text(browser, "rubric") and "the line" in text(browser, "rubric")
        press(browser, "ana" + Keys.ENTER)  # the name field has the focus on a first visit
        wait_for(browser, lambda d: text(d, "doc-title"))
        assert text(browser, "progress") == f"0 of {N_DOCS} rated · 0 skipped"
        first = browser.find_element(By.ID, "document").get_attribute("data-doc-id")
        assert len(first) == 32 and text(browser, "doc-text") and text(browser, "doc-url").startswith("http")

        press(browser, "4")  # a rating by key
        wait_for(browser, lambda d: text(d, "progress").startswith(f"1 of {N_DOCS} rated"))
        assert text(browser, "status") == "saved: 4"
        second = browser.find_element(By.ID, "document").get_attribute("data-doc-id")
        assert second != first

        note = browser.find_element(By.ID, "note")  # keys typed into the note do not rate
        note.send_keys("a product list 2 3")
        browser.find_element(By.CSS_SELECTOR, "button.rate[data-rating='2']").click()  # a rating by click
        wait_for(browser, lambda d: text(d, "progress").startswith(f"2 of {N_DOCS} rated"))
        third = browser.find_element(By.ID, "document").get_attribute("data-doc-id")

        press(browser, "s")  # skip
        wait_for(browser, lambda d: text(d, "progress") == f"2 of {N_DOCS} rated · 1 skipped")
        press(browser, "f")  # the whole text, then back
        assert browser.find_element(By.ID, "doc-full").is_displayed()
        press(browser, "f")
        press(browser, "0")
        wait_for(browser, lambda d: text(d, "progress") == f"3 of {N_DOCS} rated · 1 skipped")
        fourth = ratings(warehouse)["doc_id"][-1]
        assert wait_for(browser, lambda d: d.find_element(By.ID, "done").is_displayed())
        assert "3 of 4 documents rated, 1 skipped" in text(browser, "done-text")

        browser.find_element(By.ID, "revisit").click()  # the skipped document comes back
        wait_for(browser, lambda d: d.find_element(By.ID, "document").get_attribute("data-doc-id") == third
                 and d.find_element(By.ID, "rating-view").is_displayed())
        press(browser, "5")
        wait_for(browser, lambda d: text(d, "progress") == f"4 of {N_DOCS} rated · 0 skipped")

        table = ratings(warehouse)  # written through the import path: one row per rating
        assert table["doc_id"].to_list() == [first, second, fourth, third]
        assert table["rating"].to_list() == [4, 2, 0, 5]
        assert set(table["rater"]) == {"ana"}
        assert table["note"].to_list() == ["", "a product list 2 3", "", ""]
        assert table["source_file"].str.contains(r"^rate-serve\.jsonl#sha256:[0-9a-f]{16}$").all()

        # the API refuses what the import refuses, with one line, and writes nothing
        status, body = server.post("/api/rate", {"rater": "ana", "doc_id": first, "rating": 7})
        assert status == 400 and body["error"] == f"doc_id {first}: rating 7 is not an integer from 0 to 5"
        status, body = server.post("/api/rate", {"rater": "ana", "doc_id": "0" * 32, "rating": 3})
        assert status == 400 and "unknown doc_id" in body["error"]
        status, body = server.post("/api/rate", {"rater": " ", "doc_id": first, "rating": 3})
        assert status == 400 and body["error"].startswith("no rater name")
        status, body = server.post("/api/rate", {"rater": "ana", "doc_id": first, "rating": 4})
        assert status == 200 and body["saved"] == 0  # the same rating again adds nothing
        assert ratings(warehouse).height == 4
    finally:
        server.stop()

    # a restarted page with --rater: the name is filled in, and ana's rated documents are not offered again
    server = Server(warehouse, "--rater", "ana")
    try:
        browser.get(server.url + "/")
        wait_for(browser, lambda d: text(d, "doc-title"))
        assert browser.find_element(By.ID, "rater").get_attribute("value") == "ana"
        assert text(browser, "progress") == f"0 of {N_DOCS} rated · 0 skipped · 4 rated earlier"
        offered = browser.find_element(By.ID, "document").get_attribute("data-doc-id")
        assert offered not in {first, second, third, fourth}
    finally:
        server.stop()


def test_the_api_takes_json_from_this_machine_only(warehouse):
    server = Server(warehouse, "--rater", "ana")
    try:
        doc_id = json.loads(urllib.request.urlopen(server.url + "/api/next?rater=ana", timeout=30).read())["doc"]["doc_id"]
        # a text/plain POST needs no CORS preflight, so another site's page could send it: refused
        request = urllib.request.Request(server.url + "/api/rate", method="POST", headers={"Content-Type": "text/plain"},
                                         data=json.dumps({"rater": "ana", "doc_id": doc_id, "rating": 1}).encode())
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 400 and "application/json" in json.loads(refused.value.read())["error"]
        # a page of another name that resolves here (DNS rebinding) is refused as well
        rebound = urllib.request.Request(server.url + "/api/next?rater=ana", headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as wrong_host:
            urllib.request.urlopen(rebound, timeout=30)
        assert wrong_host.value.code == 400
        assert not (warehouse / "quality_ratings").exists()
        status, body = server.post("/api/rate", {"rater": "ana", "doc_id": doc_id, "rating": 1})  # JSON: taken
        assert status == 200 and body["saved"] == 1 and body["rated"] == 1
        assert ratings(warehouse)[["doc_id", "rating"]].rows() == [(doc_id, 1)]
    finally:
        server.stop()
