"""A stage depends on exactly the code it runs, the tooling stays out of every stage, and a
stage starts with only the libraries it uses.

Each stage's import closure within the ``driftline`` package is derived from the source with
``ast`` (imports inside functions included: they run when the stage does) and must be the
code deps dvc.yaml declares for it, file by file: a folder dep (``src/driftline/core``, a part
the stage runs all of) stands for every file in it. So a new import cannot leave a stage's deps
stale, a dropped one cannot leave a stage rerunning for code it no longer runs, editing the
tooling (``driftline.tooling``) reruns nothing, and editing the plotting code reruns only the
stages that draw, which the last test checks with DVC.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import ROOT, stage_code

SRC = ROOT / "src"
PACKAGE = "driftline"
CORE = SRC / PACKAGE / "core"
TOOLING = SRC / PACKAGE / "tooling"


def module_file(module: str) -> Path | None:
    """The source file of a module of the package, or None if there is none."""
    base = SRC.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported(path: Path) -> set[str]:
    """The modules of the package that the file imports, wherever in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import, which this test does not follow"
            for alias in node.names:  # `from driftline.core import paths` imports a module
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if module_file(submodule) else node.module)
        elif isinstance(node, ast.Call):
            called = getattr(node.func, "attr", getattr(node.func, "id", None))
            assert called not in ("import_module", "__import__"), f"{path}: a dynamic import"
    return {name for name in found if name.split(".")[0] == PACKAGE}


def closure(module: str) -> set[Path]:
    """Every file of the package that importing ``module`` runs: its imports, theirs and so
    on, each with the ``__init__.py`` of the packages that hold it."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        parts = todo.pop().split(".")
        for depth in range(1, len(parts) + 1):
            path = module_file(".".join(parts[:depth]))
            assert path is not None, f"{'.'.join(parts)} is not a module in src/"
            if path not in seen:
                seen.add(path)
                todo += imported(path)
    return seen


def runs_no_code(path: Path) -> bool:
    """A package ``__init__.py`` that holds nothing but its docstring."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return (
        path.name == "__init__.py"
        and len(body) <= 1
        and all(
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body
        )
    )


def runs_code(files: set[Path]) -> set[Path]:
    """The files less the enclosing packages' docstrings, which run no code."""
    return {path for path in files if not runs_no_code(path)}


def outside(files: set[Path], deps: list[Path]) -> list[Path]:
    """The files that no dep holds (a dep is a file or a folder), less files that run no code
    (the enclosing packages' docstrings)."""
    return sorted(
        path
        for path in files
        if not any(path == dep or dep in path.parents for dep in deps) and not runs_no_code(path)
    )


def expanded(deps: list[Path]) -> set[Path]:
    """The code files the deps name: a file, or every .py file of a folder that runs code."""
    files = set()
    for dep in deps:
        files |= runs_code(set(dep.rglob("*.py"))) if dep.is_dir() else {dep}
    return files


@pytest.mark.parametrize("stage", sorted(stage_code()))
def test_a_stage_depends_on_exactly_the_code_it_runs(stage):
    module, deps = stage_code()[stage]
    files = runs_code(closure(module))
    assert deps[0] == module_file(module), f"{stage}: its entry point is not its first code dep"
    expected = sorted(path.relative_to(ROOT).as_posix() for path in files)
    declared = sorted(path.relative_to(ROOT).as_posix() for path in expanded(deps))
    assert declared == expected, (
        f"{stage}: its code deps in dvc.yaml are not the code it runs; missing "
        f"{sorted(set(expected) - set(declared))}, not run {sorted(set(declared) - set(expected))}"
    )


def test_no_stage_runs_or_depends_on_the_tooling():
    for stage, (module, deps) in stage_code().items():
        assert not any(TOOLING in path.parents for path in closure(module)), stage
        assert not any(dep == TOOLING or dep in TOOLING.parents for dep in deps), stage


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def test_only_the_tooling_imports_the_tooling_and_the_kernel_only_itself():
    for path in (SRC / PACKAGE).rglob("*.py"):
        if TOOLING not in path.parents:
            assert outside(closure(module_of(path)), [SRC / PACKAGE]) == [], path
            assert not any(TOOLING in p.parents for p in closure(module_of(path))), path
    for path in CORE.rglob("*.py"):  # every stage runs all of it: it may not reach out
        assert outside(closure(module_of(path)), [CORE]) == [], path


def test_the_check_follows_imports_inside_functions_and_flags_code_outside_the_deps():
    files = closure("driftline.tooling.cli")  # cli imports ingest inside its `ingest` command
    assert TOOLING / "ingest.py" in files and SRC / PACKAGE / "data/contract.py" in files
    assert TOOLING / "ingest.py" in outside(files, [CORE])
    assert SRC / PACKAGE / "__init__.py" not in outside(files, [CORE])
