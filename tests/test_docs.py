"""README.md tells a new user the truth: the two commands first, every setting, every command.

The settings table in README.md is generated from ``Settings.model_fields`` (names, defaults) and
the descriptions in docker/.env.example; when a setting is added, this test prints the table to
paste between the ``settings-table`` markers.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import typer.main
from typer.core import TyperGroup

from app.cli import app as cli_app
from app.config import ROOT, Settings
from app.demo import DEMO_ACCOUNTS, DEMO_INTEGRATION_TOKEN

README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / "docker" / ".env.example"
TABLE_BEGIN = "<!-- settings-table:begin -->"
TABLE_END = "<!-- settings-table:end -->"
_SETTING_LINE = re.compile(r"^(?:#\s*)?(CASEWORK_[A-Z0-9_]+)=(.*)$")


def env_name(field: str) -> str:
    return f"CASEWORK_{field.upper()}"


def env_example_descriptions(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """Each CASEWORK_ variable of .env.example with the comment line directly above it."""
    descriptions: dict[str, str] = {}
    previous = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _SETTING_LINE.match(line.strip())
        if match:
            comment = previous.strip()
            descriptions[match.group(1)] = comment[1:].strip() if comment.startswith("#") else ""
        previous = line
    return descriptions


def default_text(field: str) -> str:
    default = Settings.model_fields[field].default
    if default is None:
        return "(unset)"
    if isinstance(default, bool):
        return "`true`" if default else "`false`"
    if isinstance(default, Enum):
        default = default.value
    # The embedded database lives in the checkout, wherever that is.
    return "`" + str(default).replace(str(ROOT), "<checkout>") + "`"


def settings_table() -> str:
    descriptions = env_example_descriptions()
    rows = ["| Variable | Default | Description |", "|---|---|---|"]
    for field in Settings.model_fields:
        name = env_name(field)
        description = descriptions.get(name, "").replace("|", "\\|")
        rows.append(f"| `{name}` | {default_text(field)} | {description} |")
    return "\n".join(rows)


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    lines = [line for line in _readme().splitlines() if line.strip()]
    assert lines[0].startswith("# "), "README.md starts with its title"
    fence = lines[1]
    assert fence.startswith("```"), "the first thing after the title is a code block"
    block = lines[2 : lines.index("```", 2)]
    commands = [line.split("#")[0].strip() for line in block]
    assert [c for c in commands if c] == ["make run", "make test"]


def test_every_setting_is_in_the_readme_with_its_description() -> None:
    readme = _readme()
    for field in Settings.model_fields:
        assert f"`{env_name(field)}`" in readme, f"README.md does not document {env_name(field)}"
    begin, end = readme.index(TABLE_BEGIN), readme.index(TABLE_END)
    table = readme[begin + len(TABLE_BEGIN) : end].strip()
    expected = settings_table()
    assert table == expected, (
        "README.md's settings table is out of date; paste this between the settings-table "
        f"markers:\n\n{expected}\n"
    )


def test_every_setting_has_a_description_in_env_example() -> None:
    descriptions = env_example_descriptions()
    for field in Settings.model_fields:
        assert descriptions.get(env_name(field)), (
            f"docker/.env.example has no comment line above {env_name(field)}"
        )


def _command_paths(group: TyperGroup, prefix: str = "casework") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, TyperGroup):
            paths.extend(_command_paths(command, path))
        else:
            paths.append(path)
    return paths


def test_every_cli_command_is_in_the_readme() -> None:
    readme = _readme()
    group = typer.main.get_command(cli_app)
    assert isinstance(group, TyperGroup)
    paths = _command_paths(group)
    assert "casework db upgrade" in paths
    missing = [path for path in paths if path not in readme]
    assert not missing, f"README.md does not mention: {', '.join(missing)}"


def test_readme_explains_postgresql_and_the_architecture() -> None:
    readme = _readme()
    assert "CASEWORK_DATABASE_URL=postgresql+psycopg://" in readme
    assert "## Architecture" in readme
    assert "/api/v1/openapi.json" in readme


def test_the_demo_accounts_in_the_readme_are_the_real_ones() -> None:
    readme = _readme()
    for account in DEMO_ACCOUNTS:
        assert f"| `{account.username}` | `{account.password}` |" in readme, account.username
    assert DEMO_INTEGRATION_TOKEN in readme
