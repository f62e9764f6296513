"""Independent checks of label files: zbar decodes QR codes, poppler rasterises PDFs, Chromium renders SVG.

In CI a missing tool is an error, never a silent skip.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is missing (Debian package {package})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def zbar_decode(image: Path) -> list[str]:
    """Every QR code zbar finds in the image, as text."""
    zbarimg = require_tool("zbarimg", "zbar-tools")
    result = subprocess.run([zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)], capture_output=True, text=True, timeout=60)
    # Exit status 4 means "no symbol found": an answer, not an error.
    assert result.returncode in (0, 4), result.stderr
    return [line for line in result.stdout.splitlines() if line]


def pdf_to_pngs(pdf: Path, dpi: int) -> list[Path]:
    """Rasterise every page of the PDF at ``dpi`` with poppler's pdftoppm."""
    pdftoppm = require_tool("pdftoppm", "poppler-utils")
    prefix = pdf.with_suffix("")
    subprocess.run([pdftoppm, "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True, timeout=120)
    return sorted(pdf.parent.glob(prefix.name + "-*.png"))


def pdf_page_sizes(pdf: Path) -> list[tuple[float, float]]:
    """Page sizes in points, read by poppler's pdfinfo."""
    pdfinfo = require_tool("pdfinfo", "poppler-utils")
    output = subprocess.run([pdfinfo, "-l", "999", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", output)]


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token field"
    return match.group(1)
