"""``workflows`` stays pure: no Flask, no web layer, no database; only the standard library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "workflows"
MODULES = sorted(PACKAGE.rglob("*.py"))
FORBIDDEN = ("flask", "werkzeug", "sqlalchemy", "webapp", "wtforms", "jinja2")


def imported_roots(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.extend(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.append(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            roots.append("<dynamic __import__>")
    return roots


def is_forbidden(name: str) -> bool:
    return name in FORBIDDEN or name.startswith("flask_")


def test_the_package_has_modules():
    assert PACKAGE / "__init__.py" in MODULES
    assert len(MODULES) >= 9


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_forbidden_import(path):
    bad = [name for name in imported_roots(path) if is_forbidden(name)]
    assert bad == [], f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_only_stdlib_and_workflows(path):
    others = [
        name
        for name in imported_roots(path)
        if name not in sys.stdlib_module_names and name != "workflows"
    ]
    assert others == [], f"{path.name} imports {others}"


def test_the_checker_would_catch_a_flask_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import flask_login\nfrom werkzeug.utils import x\nfrom webapp import db\n")
    assert [n for n in imported_roots(sample) if is_forbidden(n)] == [
        "flask_login", "werkzeug", "webapp",
    ]  # fmt: skip


def test_importing_workflows_loads_no_web_module():
    script = (
        "import importlib, pkgutil, sys\n"
        "import workflows\n"
        "for info in pkgutil.walk_packages(workflows.__path__, 'workflows.'):\n"
        "    importlib.import_module(info.name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = result.stdout.split()
    assert "workflows.proposal_states" in loaded
    assert [m for m in loaded if is_forbidden(m.split(".")[0])] == []
