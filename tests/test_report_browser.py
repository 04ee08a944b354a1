"""The report as a reader meets it: pages opened from the file system in headless Chromium (Debian's
chromium and chromedriver, driven by Selenium), charts drawn, flagged values marked, source links at
the right page. Screenshots go to $REPORT_SCREENSHOTS (default: the test's temporary folder)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from pdfminer.high_level import extract_text

from .conftest import RAW

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):  # CI installs them (.ci/run): a missing browser is a failure there
        raise RuntimeError("chromium and chromedriver are needed: apt-get install chromium chromium-driver")
    pytest.skip("chromium and chromedriver not installed (make browser)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

ANDEL_BARN = "andel-barn-som-lever-i-familjer-som-har-ekonomiskt-bistand"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("REPORT_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser, page: Path) -> None:
    browser.get(page.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"


def _drawn(browser, css: str, root=None) -> list[dict]:
    """Boxes of the elements the browser laid out for `css`: width and height in CSS pixels."""
    return browser.execute_script(
        "return Array.from((arguments[1] || document).querySelectorAll(arguments[0]))"
        ".map(e => { const r = e.getBoundingClientRect(); return {w: r.width, h: r.height}; });",
        css,
        root,
    )


def test_overview(site, browser, screenshots):
    _open(browser, site.out_dir / "index.html")
    assert browser.title.startswith("Översikt")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.overview tbody tr")
    names = [r.find_element(By.CSS_SELECTOR, "td a").text for r in rows]
    assert names == ["Hägersten-Älvsjö", "Hässelby-Vällingby", "Rinkeby-Kista", "Östermalm"]
    hv = rows[1].text
    assert "Tertial 1 2019" in hv and "46 helt" in hv
    browser.save_screenshot(str(screenshots / "report-overview.png"))


def test_district_page_charts_flags_and_sources(site, browser, screenshots):
    _open(browser, site.out_dir / "stadsdelar" / "hasselby-vallingby.html")
    card = browser.find_element(By.CSS_SELECTOR, f'.card[data-indicator="{ANDEL_BARN}"]')
    # the compact trend: 2013, Tertial 1 2014, 2018, Tertial 1 2019: four outcome points, each drawn with a size
    points = _drawn(browser, "svg g.points_marks circle", card)
    assert len(points) == int(card.get_attribute("data-points")) == 4
    assert all(p["w"] > 2 and p["h"] > 2 for p in points)
    # every trend on the page drew as many points as its card says
    for c in browser.find_elements(By.CSS_SELECTOR, ".card")[:40]:
        assert len(_drawn(browser, "svg g.points_marks circle", c)) == int(c.get_attribute("data-points"))
    # marked uncertain: 002 has no cover, its council, type and year were read from its body
    assert "Senaste utfall: 3,3 % ⚠ osäker (Tertial 1 2019)" in card.text.replace("\u00a0", " ")

    flagged = browser.find_elements(By.CSS_SELECTOR, "a.num.flagged")
    assert flagged, "no flagged value marked"
    first = flagged[0]
    mark = first.find_element(By.XPATH, "following-sibling::abbr[1]")
    assert mark.text == "⚠ osäker" and mark.is_displayed()
    assert first.value_of_css_property("color") == "rgba(192, 0, 0, 1)"  # red, and italic: never shown as certain
    assert first.value_of_css_property("font-style") == "italic"
    browser.execute_script("arguments[0].scrollIntoView()", card)
    browser.save_screenshot(str(screenshots / "report-district.png"))

    # one level down, as a reader gets there: the indicator's page of the district, every value
    _followed(browser, card.find_element(By.CSS_SELECTOR, "h4 a"))
    detail = browser.find_element(By.CSS_SELECTOR, f'.card.detail[data-indicator="{ANDEL_BARN}"]')
    points = _drawn(browser, "svg g.points_marks circle", detail)
    assert len(points) == int(detail.get_attribute("data-points")) == 4
    assert len(_drawn(browser, "svg g.target_marks path", detail)) == 2  # 2014 and 2019
    link = detail.find_element(By.XPATH, ".//table//a[normalize-space(.)='5,79\u00a0%']")
    href = link.get_attribute("href")
    assert href.endswith("/raw/000_3e9cf77e5c646f75.pdf#page=6")
    pdf = Path(href.removeprefix("file://").split("#")[0])
    assert pdf.resolve() == (RAW / "000_3e9cf77e5c646f75.pdf").resolve()
    page6 = extract_text(pdf, page_numbers=[5])
    assert "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd" in " ".join(page6.split())
    assert "5,79" in page6
    browser.save_screenshot(str(screenshots / "report-detail.png"))


def test_a_flagged_point_is_ringed_in_its_chart(site, browser):
    _open(browser, site.out_dir / "stadsdelar" / "hagersten-alvsjo.html")
    card = browser.find_element(By.CSS_SELECTOR, '.card:has(a.num.flagged[data-flag="mixed_units"])')
    assert len(_drawn(browser, "svg g.flagged_marks circle", card)) >= 1
    assert "osäker avläsning" in card.find_element(By.CSS_SELECTOR, ".key").text


def test_indicator_page_compares_districts(site, browser, screenshots):
    _open(browser, site.out_dir / "indikatorer" / "aktivt-medskapandeindex.html")
    chart = browser.find_element(By.CSS_SELECTOR, ".chart.wide")
    points = _drawn(browser, "svg g.points_marks circle", chart)
    # Hägersten-Älvsjö 2020, 2021 and Hässelby-Vällingby 2013, 2018, 2019 (Rinkeby-Kista: a plan, targets only)
    assert len(points) == int(chart.get_attribute("data-points")) == 5
    legend = chart.find_element(By.CSS_SELECTOR, ".key.districts").text
    assert {"Hägersten-Älvsjö", "Hässelby-Vällingby", "Rinkeby-Kista"} <= set(legend.split("\n"))
    rows = [s.get_attribute("data-district") for s in browser.find_elements(By.CSS_SELECTOR, ".district-series")]
    assert rows == ["Hägersten-Älvsjö", "Hässelby-Vällingby", "Rinkeby-Kista"]
    browser.save_screenshot(str(screenshots / "report-indicator.png"))


def test_quality_page(site, browser, screenshots):
    _open(browser, site.out_dir / "kvalitet.html")
    assert browser.find_element(By.ID, "osakra").text == "Osäkra rader (125)"
    counts = {
        r.find_element(By.CSS_SELECTOR, "td a").text: int(r.find_elements(By.CSS_SELECTOR, "td.n")[0].text)
        for r in browser.find_elements(By.CSS_SELECTOR, "tr.quality-report")
    }
    assert sum(counts.values()) == 125 and counts["001_e413b7b4eec749f1.pdf"] == 2
    browser.save_screenshot(str(screenshots / "report-quality.png"))
    # each report's rows on its own page, as a reader gets there
    _followed(browser, browser.find_element(By.LINK_TEXT, "002_80d6a2513fda4bdc.txt"))
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.flagged-row")
    assert len(rows) == counts["002_80d6a2513fda4bdc.txt"] > 100


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory):
    """A report of raw files whose names hold '?', '#', '%' and spaces, in a folder with a space."""
    from pipeline.cli import run_build
    from pipeline.report.site import build_report

    from .build_helpers import settings_for, write_t1_report

    base = tmp_path_factory.mktemp("odd names")
    raw = base / "raw files"
    raw.mkdir()
    pdf = raw / "Östermalm q?x #2 pct%41.pdf"
    shutil.copy(RAW / "004_05871d331dd0cb08.pdf", pdf)
    txt = write_t1_report(
        raw / "Farsta t1?#%41 2015.txt", "Farsta", 2015, ["Antal provhushåll i test\t12\t10\t\t\t\tTertial 1 2015"]
    )
    warehouse = base / "wh" / "indicators.duckdb"
    ok, summary, _ = run_build(settings_for(raw, warehouse))
    assert ok and summary["reports_loaded"] == 2
    return build_report(warehouse, base / "wh" / "report", raw, workers=1).out_dir, pdf, txt


def _followed(browser, link) -> Path:
    """Follow a link as a reader does; gives the file the browser opened."""
    href = link.get_attribute("href")
    link.click()
    url = urlsplit(browser.current_url)
    assert url.scheme == "file" and browser.current_url.startswith(href.split("#")[0])
    return Path(unquote(url.path))


def test_links_to_files_with_odd_names_open_those_files(odd_names, browser):
    out, pdf, txt = odd_names
    _open(browser, out / "stadsdelar" / "farsta.html")
    link = browser.find_element(By.XPATH, "//a[contains(@class, 'num') and normalize-space(.)='12']")
    assert "%3F%23%2541" in link.get_attribute("href")
    assert _followed(browser, link) == txt
    assert "Tertialrapport 1 2015" in browser.find_element(By.TAG_NAME, "body").text  # the file's own text

    _open(browser, out / "stadsdelar" / "ostermalm.html")
    card = browser.find_element(By.CSS_SELECTOR, f'.card[data-indicator="{ANDEL_BARN}"]')
    link = card.find_element(By.XPATH, ".//a[normalize-space(.)='0,45\u00a0%']")
    href = link.get_attribute("href")
    page = int(href.rpartition("#page=")[2])
    assert "%3Fx%20%232%20pct%2541.pdf#page=" in href
    assert _followed(browser, link) == pdf
    assert "0,45" in extract_text(pdf, page_numbers=[page - 1])
