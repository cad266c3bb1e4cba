"""Driving the search page in Chromium: waiting for its states, searching, choosing, reading what it shows."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from chromium import SHOTS, WAIT_S, require_browser

require_browser()
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# What a condition may meet while the page renders: an element not there yet, or one read as the page replaced it
# (the results list redrawn between finding its items and reading them: once in a suite run beside another)
RENDERING = (NoSuchElementException, StaleElementReferenceException)


def wait_until(driver, condition, what: str):
    """`condition(driver)` once it is truthy, asked again (until WAIT_S) while false or while the page renders."""
    return WebDriverWait(driver, WAIT_S, ignored_exceptions=RENDERING).until(lambda d: condition(d),
                                                                             message=f"waited for {what}")


def wait_for_state(driver, state: str, **attrs: str) -> None:
    """Until the page shows `state` (empty, results, no-results, error) and #results has `attrs`."""
    def ready(d) -> bool:
        if d.find_element(By.ID, "main").get_attribute("data-state") != state:
            return False
        results = d.find_element(By.ID, "results")
        return all(results.get_attribute(f"data-{name}") == value for name, value in attrs.items())
    wait_until(driver, ready, f"state {state} {attrs}")


def search(driver, query: str) -> None:
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(query, Keys.ENTER)


def choose_mode(driver, label: str) -> None:
    driver.find_element(By.XPATH, f"//fieldset[contains(@class,'modes')]//label[span[text()='{label}']]").click()


def url_params(driver) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(driver.current_url).query).items()}


def hit_ids(driver) -> list[str]:
    return [li.get_attribute("data-paragraph-id") for li in driver.find_elements(By.CSS_SELECTOR, "#hits > li")]


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def shoot(driver, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(SHOTS / name))


def as_phone(driver, width: int = 375, height: int = 812) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})


def overflow_px(driver) -> int:
    """How far the page is wider than the viewport (0: nothing overflows horizontally)."""
    return driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


def article_ids(driver) -> list[str]:
    return [li.get_attribute("data-article-id") for li in driver.find_elements(By.CSS_SELECTOR, "#hits > li")]


def choose(driver, group: str, label: str) -> None:
    driver.find_element(By.XPATH, f"//fieldset[contains(@class,'{group}')]//label[span[text()='{label}']]").click()
