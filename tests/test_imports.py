"""Every module imports on its own, whatever was imported before it (no import cycles, no order dependence).

An import cycle hides as long as the app happens to import its modules in a lucky order; it shows when a
worker, a script or a test imports another module first. So each module is imported first in a fresh
interpreter of its own. Starting ~140 interpreters would take minutes, so one fresh interpreter loads the
third-party libraries the project imports (never a project module), and then forks one child per project
module: each child starts with no `bizportal` module loaded and imports just its one module.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("engine", "api", "adapters", "storage")

# Runs in the fresh interpreter: stdin holds {"preload": [...], "modules": [...]}; prints {module: error}.
_IMPORT_EACH = r"""
import importlib, json, os, py_compile, shutil, sys, tempfile, traceback
job = json.load(sys.stdin)
for name in job["preload"]:
    try:
        importlib.import_module(name)
    except ImportError:
        pass  # an optional extra; the child importing the project module will say if it matters
assert not [m for m in sys.modules if m.startswith("bizportal")], "a preload imported the project"
# Compile the project once here rather than once per child (to a scratch folder: the libraries above
# keep reading their own bytecode).
sys.pycache_prefix, sys.dont_write_bytecode = tempfile.mkdtemp(prefix="import-each-"), False
for path in job["sources"]:
    py_compile.compile(path)
slots, running, failures = max(2, os.cpu_count() or 2), {}, {}

def reap():
    pid, status = os.wait()
    module, read_end = running.pop(pid)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    if status != 0:
        failures[module] = message or f"exit status {status}"

for module in job["modules"]:
    while len(running) >= slots:
        reap()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            importlib.import_module(module)
            code = 0
        except BaseException:
            os.write(write_end, traceback.format_exc(limit=-3).encode())
            code = 1
        os._exit(code)
    os.close(write_end)
    running[pid] = (module, read_end)
while running:
    reap()
shutil.rmtree(sys.pycache_prefix)
print(json.dumps(failures))
"""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["bizportal", *parts])


def _project_modules() -> list[str]:
    # Alembic's env.py and revision files run only inside Alembic, never by import.
    return sorted(_module_name(path) for layer in LAYERS for path in (ROOT / layer).rglob("*.py")
                  if "migrations" not in path.parts)


def _third_party_imports() -> list[str]:
    names: set[str] = set()
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module)
    return sorted(name for name in names if name.split(".")[0] not in ("bizportal", "__future__"))


def import_each(modules: list[str]) -> dict[str, str]:
    """Import each module first, in a process of its own; returns the failures (module -> traceback)."""
    sources = [str(path) for layer in LAYERS for path in (ROOT / layer).rglob("*.py")]
    job = json.dumps({"preload": _third_party_imports(), "modules": modules, "sources": sources})
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH], input=job, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_module_imports_first_on_its_own() -> None:
    modules = _project_modules()
    assert "bizportal.engine.licences.standing" in modules and len(modules) > 100
    assert import_each(modules) == {}


def test_a_cycle_is_caught(tmp_path: Path) -> None:
    # Two modules that import each other by name: importing either first fails with a partial module.
    (tmp_path / "cycle_a.py").write_text("from cycle_b import B\nA = 1\n")
    (tmp_path / "cycle_b.py").write_text("from cycle_a import A\nB = 2\n")
    script = f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n" + _IMPORT_EACH
    job = json.dumps({"preload": [], "modules": ["cycle_a", "cycle_b", "json"], "sources": []})
    done = subprocess.run([sys.executable, "-c", script], input=job, capture_output=True, text=True,
                          timeout=60, check=True)
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(failures) == ["cycle_a", "cycle_b"]
    assert "partially initialized module" in failures["cycle_a"]
