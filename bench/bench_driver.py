"""The driver app's first load: bytes over the wire (gzip) for the shell HTML and
the JavaScript and CSS it needs before the route shows. Budget: 100 KB."""
from __future__ import annotations

import gzip
import re
from typing import Any

from bench.harness import Report, bench_app

BUDGET_BYTES = 100 * 1024
# Static URLs carry their content hash (?v=…): sizes are keyed by the path alone.
_ASSET = re.compile(r"""<(?:script|link)\b[^>]*?(?:src|href)="([^"?]+\.(?:js|css))(\?[^"]*)?\"""")


def shell_first_load(client: Any) -> dict[str, int]:
    """Gzip size of /driver/ and of every JS/CSS file it loads, by URL path."""
    html = client.get("/driver/")
    sizes = {"/driver/": len(gzip.compress(html.data, 9))}
    for path, query in _ASSET.findall(html.get_data(as_text=True)):
        response = client.get(path + query)
        assert response.status_code == 200, path
        sizes[path] = len(gzip.compress(response.data, 9))
        response.close()
    return sizes


def run(report: Report) -> None:
    with bench_app() as app:
        sizes = shell_first_load(app.test_client())
    total = sum(sizes.values())
    report.bench("driver_shell_first_load_gzip", total / 1024, "KB")
    report.bench("driver_shell_files", len(sizes), "files")
    report.note(f"driver shell budget {BUDGET_BYTES // 1024} KB; largest: "
                + ", ".join(f"{p} {s / 1024:.1f}" for p, s in sorted(sizes.items(), key=lambda kv: -kv[1])[:3]))
