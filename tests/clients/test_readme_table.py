"""The README's client table names the versions the matrix really pins: every pinned client appears
in a row with its version, and every row's version is one that a pin file holds."""

from __future__ import annotations

import json
import re

from conftest import CLIENTS, REPO_ROOT

# The packages the table is about (the rest of each pin file is their dependencies).
PACKAGES = {
    "snowflake-connector-python", "snowflake-cli", "snowflake-sqlalchemy", "snowflake-snowpark-python",
    "adbc-driver-snowflake", "dbt-snowflake", "ibis-framework", "apache-airflow-providers-snowflake",
    "snowflake-sdk", "async-snowflake",
}


def pinned() -> set[tuple[str, str]]:
    pins = set()
    for req in [REPO_ROOT / "tests" / "requirements.txt", *CLIENTS.glob("requirements-*.txt")]:
        for line in req.read_text().splitlines():
            m = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", line)
            if m and m[1] in PACKAGES:
                pins.add((m[1], m[2]))
    for package_json in CLIENTS.glob("node*/package.json"):
        for name, version in json.loads(package_json.read_text())["dependencies"].items():
            pins.add((name, version))
    return pins


def table_rows() -> list[tuple[str, str]]:
    """(first column, version column) of each row of the README's "Clients tested" table."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Clients tested\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ")]
    return [(cells[0], cells[1].strip()) for cells in rows[1:]]


def names_in(client: str) -> list[str]:
    """The packages a row's first column names, in backticks (with or without extras)."""
    return [name for name in PACKAGES if re.search(rf"`{re.escape(name)}[`\[]", client)]


def test_every_pinned_client_has_a_row_with_its_version():
    rows = table_rows()
    assert len(pinned()) >= 13
    for name, version in sorted(pinned()):
        assert any(name in names_in(client) and v == version for client, v in rows), (name, version, rows)


def test_every_row_names_a_pinned_version():
    pins = pinned()
    for client, version in table_rows():
        assert any((name, version) in pins for name in names_in(client)), (client, version)
