"""docs/ARCHITECTURE.md sends a newcomer to a function and a test in one hop: every module,
function and test path its tables name must exist."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
APPS = {"accounts", "claims", "config", "core", "incidents", "losses", "merchants", "settlements", "sla", "telemetry"}


def table_rows(heading: str) -> list[list[str]]:
    """The cells of the Markdown table under ``heading`` (header and rule lines left out)."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]


def names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def resolve(dotted: str) -> object:
    """Import the longest module prefix of ``dotted`` and read the rest as attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)  # AttributeError: the doc names something that is not there
        return obj
    raise ModuleNotFoundError(dotted)


def check_code_name(name: str, context: str | None) -> str:
    """Resolve one name of a cell; returns the module it was found in, the context of the next name.

    A name without its app is read in the module of the name before it (``upsert_incident`` after
    ``incidents.services.verify_webhook``), else in that app (``services.propose_batch``).
    """
    app = context.split(".")[0] if context else None
    if "/" in name or name.endswith(".py"):  # a file: config/settings.py, or roles.py inside the app
        path = ROOT / name if (ROOT / name).exists() or app is None else ROOT / app / name
        assert path.exists(), f"{name}: no such file"
        return context or name.split("/")[0]
    if name.split(".")[0] in APPS:
        obj = resolve(name)
        return name if isinstance(obj, type(importlib)) else name.rsplit(".", 1)[0]
    if name[0].isupper():  # a model named without its module
        assert any(hasattr(resolve(f"{a}.models"), name) for a in APPS - {"config"}), f"{name}: no such model"
        return context or ""
    assert context, f"{name}: a name without its app needs one before it in the cell"
    candidates = [f"{context}.{name}", f"{app}.{name}"]
    for candidate in candidates:
        try:
            obj = resolve(candidate)
        except (AttributeError, ModuleNotFoundError):
            continue
        return candidate if isinstance(obj, type(importlib)) else candidate.rsplit(".", 1)[0]
    raise AssertionError(f"{name}: not found as {' or '.join(candidates)}")


def check_test_path(name: str, folder: str | None) -> str:
    path = ROOT / name if name.startswith("tests/") else ROOT / (folder or "tests") / name
    assert path.exists(), f"{name}: no such test file or folder"
    return str(path.relative_to(ROOT).parent if path.is_file() else path.relative_to(ROOT))


RULES = table_rows("Where the rules live (rule → function → test)")


def test_the_rules_table_is_read():
    assert len(RULES) >= 15 and all(len(row) == 3 for row in RULES)


@pytest.mark.parametrize("row", RULES, ids=[row[0][:40] for row in RULES])
def test_each_rule_names_a_function_and_a_test_that_exist(row):
    _rule, functions, tests_ = row
    context = None
    assert names(functions), "no function named"
    for name in names(functions):
        context = check_code_name(name, context)
    folder = None
    assert names(tests_), "no test named"
    for name in names(tests_):
        folder = check_test_path(name, folder)


APPS_TABLE = table_rows("Apps and which way they depend")


@pytest.mark.parametrize("row", APPS_TABLE, ids=[row[0] for row in APPS_TABLE])
def test_each_app_entry_point_exists(row):
    app = names(row[0])[0].strip("/")
    assert (ROOT / app).is_dir()
    for name in names(row[2]):
        check_code_name(name.removesuffix(".*"), app)


def test_the_check_refuses_names_that_do_not_exist():
    with pytest.raises(AttributeError):
        check_code_name("claims.services.no_such_service", None)
    with pytest.raises(AssertionError):
        check_code_name("no_such_selector", "claims.selectors")
    with pytest.raises(AssertionError):
        check_code_name("NoSuchModel", None)
    with pytest.raises(AssertionError):
        check_test_path("test_no_such_file.py", "tests/claims")
    assert check_code_name("submit", "claims.services") == "claims.services"
    assert check_test_path("test_workflow.py", "tests/claims") == "tests/claims"
