"""docs/ says what the code does: the state diagram, the commands, the routes, the links."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.main import get_command

from selfheal.activities.fixes.unfixable import NO_SAFE_FIX
from selfheal.cli.app import app
from selfheal.client.listing import IncidentSummary
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, FixProposal
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal.settings import Settings
from selfheal.webhook.app import create_app
from selfheal.workflows.transitions import EDGES
from tests.packaging.env_names import ROOT, lab_env_names, settings_env_names
from tests.packaging.state_machine import START, workflow_transitions
from tests.packaging.test_contracts import declared_specs

DOCS = ROOT / "docs"
INCIDENT = ROOT / "selfheal" / "workflows" / "incident.py"

_MERMAID = re.compile(r"```mermaid\n(?P<body>.*?)```", re.S)
_ARROW = re.compile(r"^\s*(?P<left>\[\*\]|\w+)\s*-->\s*(?P<right>\[\*\]|\w+)\s*(?::.*)?$")
_LINK = re.compile(r"\]\((?P<target>[^)#\s]+)(?:#[^)]*)?\)")


def state_diagram(markdown: str) -> set[tuple[str, str]]:
    """The transitions of the (only) mermaid stateDiagram in `markdown`."""
    diagrams = [
        block["body"]
        for block in _MERMAID.finditer(markdown)
        if block["body"].lstrip().startswith("stateDiagram")
    ]
    assert len(diagrams) == 1, "expected exactly one state diagram"
    transitions = set()
    for line in diagrams[0].splitlines()[1:]:
        if not line.strip():
            continue
        match = _ARROW.match(line)
        assert match, f"not a transition: {line!r}"
        transitions.add((match["left"], match["right"]))
    return transitions


@pytest.fixture(scope="module")
def drawn() -> set[tuple[str, str]]:
    return state_diagram((DOCS / "architecture.md").read_text())


def test_diagram_shows_every_state_and_nothing_else(drawn: set[tuple[str, str]]) -> None:
    states = {state for transition in drawn for state in transition} - {START}
    assert states == {state.value for state in IncidentState}


def test_diagram_draws_exactly_the_transitions_the_workflow_makes(
    drawn: set[tuple[str, str]],
) -> None:
    real = workflow_transitions(INCIDENT)
    assert real - drawn == set(), "the workflow makes transitions the diagram lacks"
    assert drawn - real == set(), "the diagram draws transitions the workflow never makes"


def test_the_declared_edges_are_the_ones_drawn_and_made(drawn: set[tuple[str, str]]) -> None:
    declared = {(source.value, target.value) for source, ends in EDGES.items() for target in ends}
    inner = {(a, b) for a, b in drawn if START not in (a, b)}
    assert declared == inner, "transitions.EDGES and the diagram differ"
    made = {(a, b) for a, b in workflow_transitions(INCIDENT) if START not in (a, b)}
    assert made == declared, "the workflow's moves and transitions.EDGES differ"


def test_transition_reader_sees_the_main_paths() -> None:
    real = workflow_transitions(INCIDENT)
    assert {
        (START, "RECEIVED"),
        ("FIXING", "AWAITING_REVIEW"),
        ("AWAITING_APPROVAL", "DEPLOYING"),
        ("VERIFYING", "RESOLVED"),
        ("ESCALATED", "ANALYZING"),
        ("RESOLVED", START),
    } <= real


def test_diagram_parser_refuses_a_line_it_cannot_read() -> None:
    with pytest.raises(AssertionError, match="not a transition"):
        state_diagram("```mermaid\nstateDiagram-v2\n    A -> B\n```\n")


def test_cli_reference_covers_every_command() -> None:
    text = (DOCS / "cli.md").read_text()
    root = get_command(app)
    commands = getattr(root, "commands", {})
    names = []
    for name, command in commands.items():
        sub = getattr(command, "commands", None)
        names += [f"{name} {child}" for child in sub] if sub else [name]
    missing = [name for name in names if f"`selfheal {name}" not in text]
    assert not missing, f"docs/cli.md lacks {missing}"


def json_example(markdown: str, marker: str) -> object:
    """The JSON code block right after `<!-- marker -->`."""
    match = re.search(rf"<!-- {marker} -->\n```json\n(?P<body>.*?)```", markdown, re.S)
    assert match, f"no example marked {marker}"
    return json.loads(match["body"])


def test_cli_json_examples_have_exactly_the_fields_of_the_output() -> None:
    text = (DOCS / "cli.md").read_text()
    listed = json_example(text, "list-json")
    assert isinstance(listed, list) and listed
    assert set(listed[0]) == set(IncidentSummary.model_fields)
    IncidentSummary.model_validate(listed[0])
    shown = json_example(text, "show-json")
    assert isinstance(shown, dict)
    reading = {"read_from", "as_of"}
    assert set(shown) == set(IncidentStatus.model_fields) | reading
    status = IncidentStatus.model_validate({k: v for k, v in shown.items() if k not in reading})
    assert status.model_dump(mode="json").keys() == shown.keys() - reading


def test_diagnose_json_example_has_exactly_the_fields_of_the_output() -> None:
    shown = json_example((DOCS / "cli.md").read_text(), "diagnose-json")
    assert isinstance(shown, dict)
    diagnosis_fields = set(Diagnosis.model_fields) - {"usage", "proposed_fix"}
    assert set(shown) == diagnosis_fields | {"fix", "workload"}
    assert set(shown["fix"]) == set(FixProposal.model_fields)
    assert set(shown["workload"]) == {"kind", "namespace", "name"}
    Diagnosis.model_validate({k: v for k, v in shown.items() if k in diagnosis_fields})
    FixProposal.model_validate(shown["fix"])


def test_webhook_reference_covers_every_route() -> None:
    settings = Settings.model_validate({"webhook_token": SecretStr("t")})
    routes = list(create_app(settings).openapi()["paths"])
    text = (DOCS / "webhook.md").read_text()
    assert {"/webhooks/alertmanager", "/healthz", "/readyz"} <= set(routes)
    missing = [path for path in routes if f"`{path}`" not in text]
    assert not missing, f"docs/webhook.md lacks {missing}"


def test_operations_names_only_real_settings() -> None:
    text = (DOCS / "operations.md").read_text()
    named = set(re.findall(r"\b(?:SELFHEAL|GITHUB|JIRA|ANTHROPIC|SLACK)_[A-Z_]+\b", text))
    named |= {"KUBECONFIG"} & set(re.findall(r"\bKUBECONFIG\b", text))
    known = settings_env_names() | lab_env_names()
    assert named - known == set(), "docs/operations.md names unknown settings"


@pytest.mark.parametrize("page", sorted(DOCS.rglob("*.md")), ids=lambda p: str(p.relative_to(DOCS)))
def test_relative_links_point_at_existing_files(page: Path) -> None:
    for match in _LINK.finditer(page.read_text()):
        target = match["target"]
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


# --- docs/architecture.md is the whole contract ------------------------------------------------

ARCHITECTURE = DOCS / "architecture.md"


def section(markdown: str, title: str) -> str:
    """The text of the `## title` section, up to the next `## `."""
    match = re.search(rf"^## {re.escape(title)}\n(?P<body>.*?)(?=^## |\Z)", markdown, re.S | re.M)
    assert match, f"no section {title}"
    return match["body"]


def test_architecture_names_every_activity_the_contracts_declare() -> None:
    table = section(ARCHITECTURE.read_text(), "Activities")
    missing = [name for name in declared_specs() if f"| `{name}` |" not in table]
    assert not missing, f"docs/architecture.md lacks activities {missing}"


def test_architecture_names_every_route() -> None:
    settings = Settings.model_validate({"webhook_token": SecretStr("t")})
    table = section(ARCHITECTURE.read_text(), "Webhook routes")
    missing = [path for path in create_app(settings).openapi()["paths"] if f"`{path}`" not in table]
    assert not missing, f"docs/architecture.md lacks routes {missing}"


def test_architecture_names_every_command() -> None:
    table = section(ARCHITECTURE.read_text(), "Commands")
    commands = getattr(get_command(app), "commands", {})
    missing = [name for name in commands if not re.search(rf"`(selfheal )?{name}\b", table)]
    assert not missing, f"docs/architecture.md lacks commands {missing}"


def test_architecture_names_every_product_setting() -> None:
    table = section(ARCHITECTURE.read_text(), "Settings")
    missing = sorted(name for name in settings_env_names() if f"`{name}`" not in table)
    assert not missing, f"docs/architecture.md lacks settings {missing}"


def test_architecture_layout_names_every_package_of_the_product() -> None:
    layout = section(ARCHITECTURE.read_text(), "Layout")
    product = ROOT / "selfheal"
    packages = [p.name for p in product.iterdir() if (p / "__init__.py").exists()]
    missing = [name for name in packages if f"  {name}/" not in layout]
    assert not missing, f"the layout lacks {missing}"
    modules = [p.name for p in product.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert [name for name in modules if name not in layout] == []


def test_architecture_lists_every_failure_class_and_which_get_no_fix() -> None:
    match = re.search(
        r"^### Failure classes\n(?P<body>.*?)(?=^##)", ARCHITECTURE.read_text(), re.S | re.M
    )
    assert match, "no Failure classes section"
    rows = [line for line in match["body"].splitlines() if line.startswith("| `")]
    fixes = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        name = re.match(r"`(\w+)`", cells[0])
        assert name, row
        fixes.setdefault(name[1], []).append(cells[-1])
    assert set(fixes) == {category.value for category in DiagnosisCategory}
    for category in NO_SAFE_FIX:
        assert fixes[category.value] == ["none"], category


def test_no_file_refers_to_a_document_outside_the_repository() -> None:
    texts = [*DOCS.rglob("*.md"), ROOT / "README.md", *(ROOT / "selfheal").rglob("*.py")]
    outside = [str(p) for p in texts if re.search(r"\bDESIGN(\.md| §)|\.\./shared", p.read_text())]
    assert not outside
