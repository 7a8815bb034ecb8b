"""report.xlsx printed as a department prints it: LibreOffice headless, to PDF.

Needs Debian's ``libreoffice-calc-nogui`` (``soffice``) and ``poppler-utils``
(``pdftoppm``, ``pdftotext``, ``pdfinfo``), which ``make test`` installs like chromium;
without them the test is skipped, unless COVGAP_REQUIRE_BROWSER is set (CI), then it
fails.  Page 1 is kept as test-artifacts/report-page1.png to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from covgap.export.excel import write_report

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
TOOLS = ("soffice", "pdftoppm", "pdftotext", "pdfinfo")


@pytest.fixture(scope="module")
def office() -> dict[str, str]:
    """The tools' paths; skipped (or failed under COVGAP_REQUIRE_BROWSER) without them."""
    found = {tool: shutil.which(tool) or (shutil.which("libreoffice") if tool == "soffice"
                                          else None) for tool in TOOLS}
    missing = [t for t, path in found.items() if path is None]
    if missing:
        problem = (f"{', '.join(missing)} missing (apt-get install libreoffice-calc-nogui "
                   "poppler-utils, or make system-deps)")
        if os.environ.get("COVGAP_REQUIRE_BROWSER"):
            pytest.fail(f"COVGAP_REQUIRE_BROWSER is set but {problem}")
        pytest.skip(f"the PDF test needs LibreOffice and poppler: {problem}")
    return found  # type: ignore[return-value]


def run(*args: str, timeout: float = 300) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr[-2000:]}"
    return done.stdout


def test_report_prints_to_pdf_one_page_wide(office, sample_result, tmp_path):
    xlsx = write_report(sample_result, tmp_path / "report.xlsx")
    profile = (tmp_path / "lo-profile").as_uri()  # a fresh profile: no lock, no dialogs
    run(office["soffice"], f"-env:UserInstallation={profile}", "--headless",
        "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx))
    pdf = tmp_path / "report.pdf"
    assert pdf.exists() and pdf.stat().st_size > 10_000

    info = run(office["pdfinfo"], str(pdf))
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    width, height = float(size.group(1)), float(size.group(2))
    assert (round(width), round(height)) == (842, 595)  # A4 landscape
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))

    text = run(office["pdftotext"], "-layout", str(pdf), "-").split("\f")
    village_pages = [p for p in text if re.search(r"\bV\d{5}\b", p)]
    assert village_pages, "the gap sheets are printed"
    # every page with village rows repeats the header row
    for page in village_pages:
        assert "Mã thôn" in page
    # one page wide: every page of the mobile and fibre gap sheets holds their first
    # column (STT) and their last (Thứ tự ưu tiên); a sheet split across pages would
    # leave the last columns to pages of their own
    gap_pages = [p for p in text if "STT" in p]
    assert len(gap_pages) >= 2
    for page in gap_pages:
        assert "Thứ tự" in page
    assert not [p for p in text if p.strip() and "Thứ tự" not in p and "Mã" not in p
                and "Chỉ tiêu" not in p and "covgap" not in p]
    assert pages == len([p for p in text if p.strip()])
    summary = text[0]
    assert "Tỷ lệ thôn có cáp quang trong phạm vi 1 km" in summary.replace("\n", " ") or (
        "cáp quang" in summary)

    # keep page 1 to look at
    ARTIFACTS.mkdir(exist_ok=True)
    run(office["pdftoppm"], "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
        str(pdf), str(ARTIFACTS / "report-page1"))
    png = ARTIFACTS / "report-page1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # and the first page of the mobile gaps, where the grouping shows
    mobile = next(i for i, p in enumerate(text, start=1) if "Tình trạng sóng" in p)
    run(office["pdftoppm"], "-png", "-r", "80", "-f", str(mobile), "-l", str(mobile),
        "-singlefile", str(pdf), str(ARTIFACTS / "report-mobile-gaps"))
