"""The benchmark script keeps working as the engine changes (a tiny run, not a measurement)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_engine_throughput_benchmark_runs(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "engine_throughput.py"), "--instances", "2"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "bare SpiffWorkflow" in result.stdout and "full use-case path" in result.stdout


def test_http_edge_benchmark_runs(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "http_edge.py"), "--requests", "3"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "bare FastAPI" in result.stdout and "verify" in result.stdout


def test_uploads_benchmark_runs(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "uploads.py"), "--size-mb", "1", "--files", "1"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "put_stream, in process (baseline)" in result.stdout and "POST .../documents over HTTP" in result.stdout


def test_load_driver_runs(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load_driver.py"), "--serve", "--users", "1",
                             "--seconds", "2", "--out", str(out)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (run,) = json.loads(out.read_text(encoding="utf-8"))["runs"]
    assert run["applications_completed"] >= 1 and run["errors"] == 0, run


def test_documents_benchmark_runs(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "documents.py"), "--renders", "1"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "e-licence" in result.stdout and "e-receipt" in result.stdout and "bare fpdf2" in result.stdout
