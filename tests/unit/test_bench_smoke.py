"""The benchmark's short run (make bench runs the long one): both engines, every figure produced.

No timing is asserted here: speed is measured by `make bench`, never by a test.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_runs_both_engines_and_writes_table_and_plots(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "bench.run", "--sizes", "300", "--window", "3", "--idle-window", "1", "--out", str(tmp_path)],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    results = json.loads((tmp_path / "bench-results.json").read_text())
    assert {r["engine"] for r in results} == {"ours", "apscheduler"}
    for result in results:
        firing = result["firing"]
        assert firing["fires"] > 0 and firing["lateness_ms"]["all"]["n"] > 0
        assert firing["loaded_rss_mib"] > 0 and firing["resume_s"] > 0
        assert result["idle"]["fires"] == 0, "yearly jobs do not fire in the idle window"
    for name in ("bench-table.md", "bench-lateness.png", "bench-burst.png", "bench-memory.png"):
        assert (tmp_path / name).stat().st_size > 0
    (tmp_path / "bench-table.md").unlink()
    subprocess.run(
        [sys.executable, "-m", "bench.run", "--report-only", "--out", str(tmp_path)],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "| 300 | ours |" in (tmp_path / "bench-table.md").read_text(), "redrawn from the saved results"


def test_full_path_report_has_a_column_per_size_and_every_row() -> None:
    from bench.fullpath_report import ROWS, table

    saved = ROOT / "docs" / "bench-fullpath-kube-apiserver.json"
    results = json.loads(saved.read_text())
    lines = table(results).splitlines()
    assert lines[0].count("jobs") == len(results)
    assert [line.split(" | ")[0].lstrip("| ") for line in lines[2:]] == [name for name, _ in ROWS]


def test_patch_cost_measures_every_request_variant(tmp_path: Path) -> None:
    from bench.patch_cost import VARIANTS

    subprocess.run(
        [sys.executable, "-m", "bench.patch_cost", "--jobs", "10", "--rounds", "1", "--out", str(tmp_path)],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    [saved] = tmp_path.glob("bench-patch-cost-*.json")
    result = json.loads(saved.read_text())
    assert set(result["per_patch"]) == set(VARIANTS)
    for figures in result["per_patch"].values():
        assert figures["patches_per_s"] > 0 and figures["answer_bytes"] > 0
        assert len(figures["api_server_ms_rounds"]) == 1
    if result["api_server"] == "kube-apiserver":  # the test server always answers the whole object
        answers = {variant: figures["answer_bytes"] for variant, figures in result["per_patch"].items()}
        assert answers["metadata-only-answer"] < answers["operator"]
