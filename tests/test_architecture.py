"""The import rules of docs/architecture.md, checked on the source with ``ast``.

``world`` (the economy) imports none of ``agents``, ``experiments``, ``analysis`` or
``viz``; ``agents`` (the strategies) build on ``world`` only; ``analysis`` reads result
files and imports neither ``world`` nor ``agents``; ``experiments`` and ``viz`` may import
everything. Every import counts: at module level, inside functions, and under
``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("world", "agents", "experiments", "analysis", "viz")
FORBIDDEN: dict[str, frozenset[str]] = {
    "world": frozenset({"agents", "experiments", "analysis", "viz"}),
    "agents": frozenset({"experiments", "analysis", "viz"}),
    "analysis": frozenset({"world", "agents", "viz"}),
    "experiments": frozenset(),
    "viz": frozenset(),
}


def imported_packages(source: str, module: str) -> set[tuple[str, int]]:
    """(top-level package, line) of every import in ``source``, the source of dotted
    module ``module`` (relative imports are resolved against it)."""
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add((name.split(".")[0], node.lineno))
    return found


def violations(root: Path = ROOT) -> list[str]:
    """Every import that breaks a rule, as ``path:line imports package``."""
    out = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            module = ".".join(rel.with_suffix("").parts)
            for name, line in sorted(imported_packages(path.read_text(), module)):
                if name in forbidden:
                    out.append(f"{rel}:{line} imports {name}")
    return out


def test_every_package_keeps_its_import_rules() -> None:
    assert all((ROOT / p).is_dir() for p in PACKAGES)
    assert violations() == []


@pytest.mark.parametrize(("package", "source", "bad"), [
    ("world", "import agents.base\n", "agents"),
    ("world", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
              "    from experiments.schema import Experiment\n", "experiments"),
    ("world", "def f():\n    from viz import app\n", "viz"),
    ("world", "from ..analysis import stats\n", "analysis"),
    ("analysis", "from world.metrics import gini\n", "world"),
    ("analysis", "import agents\n", "agents"),
    ("agents", "from experiments.wiring import build_model\n", "experiments"),
])
def test_the_rules_catch_a_forbidden_import(tmp_path: Path, package: str, source: str,
                                            bad: str) -> None:
    for p in PACKAGES:
        (tmp_path / p).mkdir()
    (tmp_path / package / "mod.py").write_text(source)
    assert [v.split(" imports ")[1] for v in violations(tmp_path)] == [bad]


def test_allowed_imports_pass(tmp_path: Path) -> None:
    for p in PACKAGES:
        (tmp_path / p).mkdir()
    (tmp_path / "world" / "a.py").write_text("from world.ledger import Ledger\nfrom . import b\n")
    (tmp_path / "agents" / "a.py").write_text("from world.interfaces import Group\n")
    (tmp_path / "analysis" / "a.py").write_text("import pandas\nfrom analysis import stats\n")
    (tmp_path / "viz" / "a.py").write_text("import agents, analysis, experiments, world\n")
    (tmp_path / "experiments" / "a.py").write_text("import agents, analysis, viz, world\n")
    assert violations(tmp_path) == []
