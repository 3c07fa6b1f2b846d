"""The architecture rules, checked by import-linter with the contracts in pyproject.toml ([tool.importlinter]):
the layers api -> engine -> {adapters | storage}, FastAPI and Starlette only in api, no import cycle between the
engine's packages or the modules of one package, the leaf domains importing no use case, and the engine's
packages in layers from the assembly down to the shared kernel.

import-linter reads our mapped namespace once the four mapped packages are its root packages (`bizportal`
itself is only a namespace that setuptools maps onto the top-level folders). It replaces the `ast` reader
this file had, which missed `from .. import api`, flagged legitimate sibling imports in sub-packages and
saw neither FastAPI in the engine nor import cycles (code-design review §3.D, §5).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("api", "engine", "adapters", "storage")
CONTRACTS = ("layers", "fastapi-in-api", "engine-acyclic", "leaf-domains", "engine-layers")  # ids in pyproject.toml


@pytest.mark.parametrize("contract", CONTRACTS)
def test_the_import_contract_is_kept(contract: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [*sys.path])  # lint_imports puts the working directory on it for good
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), limit_to_contracts=(contract,),
                              no_cache=True, no_logo=True)
    assert status == 0, report.getvalue()


# One probe per rule, each a real violation: (file under the copy, its source, what the report must name).
PROBES = [
    ("engine/_probe_up.py", "from .. import api\n", "bizportal.engine._probe_up -> bizportal.api"),
    ("adapters/example_backoffice/_probe_up.py", "from ... import api\n",
     "bizportal.adapters.example_backoffice._probe_up -> bizportal.api"),
    ("storage/_probe_sideways.py", "from bizportal.adapters.payments import base\n",
     "bizportal.storage._probe_sideways -> bizportal.adapters.payments.base"),
    ("engine/_probe_web.py", "from fastapi import HTTPException\n", "bizportal.engine._probe_web -> fastapi"),
    ("engine/_probe_cycle_a.py", "from . import _probe_cycle_b\n", "._probe_cycle_"),
    ("engine/_probe_cycle_b.py", "from . import _probe_cycle_a\n", "._probe_cycle_"),
    ("engine/workflow/_probe_use_case.py", "from bizportal.engine.payments import invoices\n",
     "bizportal.engine.workflow._probe_use_case -> bizportal.engine.payments.invoices"),
    ("engine/cases/_probe_up.py", "from bizportal.engine.payments import invoices\n",
     "bizportal.engine.cases._probe_up -> bizportal.engine.payments.invoices"),
]


def _all_but_python(folder: str, names: list[str]) -> list[str]:
    """For copytree: leave out caches, fonts and templates; only the modules matter to the import graph."""
    return [name for name in names
            if name == "__pycache__" or not (name.endswith(".py") or (Path(folder) / name).is_dir())]


def test_the_contracts_catch_a_violation_of_each_rule(tmp_path: Path) -> None:
    """Lint a copy of the packages with the probes added: each contract must break and name its probe.

    Guards the configuration itself: a wrong root package or layer name would make every contract pass."""
    source = tmp_path / "src" / "bizportal"  # a plain namespace folder, found before the editable install
    for layer in LAYERS:
        shutil.copytree(ROOT / layer, source / layer, ignore=_all_but_python)
    for path, code, _ in PROBES:
        (source / path).write_text(code, encoding="utf-8")
    lint = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True, no_logo=True))")
    result = subprocess.run([sys.executable, "-c", lint], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(tmp_path / "src")})
    report = result.stdout + result.stderr
    assert result.returncode == 1, report
    assert f"Contracts: 0 kept, {len(CONTRACTS)} broken." in report, report
    flowing = " ".join(report.split())  # the report wraps long import chains across lines
    for _, _, named in PROBES:
        assert named in flowing, report


def test_only_the_bizportal_namespace_is_installed() -> None:
    for generic in LAYERS:
        spec = importlib.util.find_spec(generic)
        assert spec is None or ROOT not in Path(spec.origin or "").parents, f"`{generic}` is importable"
    for package in LAYERS:
        assert importlib.util.find_spec(f"bizportal.{package}") is not None
