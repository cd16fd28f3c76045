"""Regressions of issue #19, one per class of failure, each on SQLite and PostgreSQL at once.

Each builds a small app, migrates it, writes rows with plain SQL, evolves the spec and
migrates again through ``gen`` processes, as a user does. After every successful step the
schema equals a fresh database built from the same spec (:func:`describe`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .evolve import Project, describe, execute, leftovers

STATION = """entity: Station
fields:
  name: {type: string, max_length: 40}
  code: {type: int}
relations:
  lines: {many_to_many: Line, through: line_stations}
"""
LINE = """entity: Line
fields:
  name: {type: string}
relations:
  stations: {many_to_many: %s, through: line_stations, inverse: lines}
"""
STOP = """entity: Stop
renamed_from: Station
fields:
  name: {type: string, max_length: 40}
  code: {type: int}
relations:
  lines: {many_to_many: Line, through: line_stations}
"""


def _specs(*entities: str) -> dict[str, str]:
    files = {"app.yaml": "app: evo\n"}
    for i, text in enumerate(entities):
        files[f"entities/e{i}.yaml"] = text
    return files


def _assert_like_fresh(project: Project, tmp_path: Path) -> None:
    """The migrated schema equals one built from scratch from the same specs."""
    fresh = Project(tmp_path / "fresh")
    fresh.root.mkdir()
    fresh.urls = {"sqlite": f"sqlite:///{fresh.root / 'fresh.db'}"}
    import shutil

    shutil.copytree(project.root / "specs", fresh.root / "specs")
    built = fresh.build()
    assert built.code == 0, built.text
    fresh.migrate_ok("upgrade")
    assert describe(project.urls["sqlite"]) == describe(fresh.urls["sqlite"])
    pg = project.urls["postgres"]
    # PostgreSQL: the fresh schema is built in a second database beside the first one
    from tests.e2e.harness import fresh_database

    with fresh_database(pg.replace("postgresql+psycopg2://", "postgresql://"), "evo_fresh") as db:
        fresh.urls = {"postgres": Project.url_for(db)}
        fresh.migrate_ok("upgrade")
        assert describe(pg) == describe(fresh.urls["postgres"])


def _refused(results: dict[str, object], *needles: str) -> None:
    for name, r in results.items():
        assert r.code == 1, f"{name}: {r.text}"  # type: ignore[attr-defined]
        text = r.text  # type: ignore[attr-defined]
        assert "Traceback" not in text, f"{name}: {text}"
        assert len(text.strip().splitlines()) <= 3, f"{name}: not one paragraph:\n{text}"
        for needle in needles:
            assert needle in text, f"{name}: {needle!r} not in {text}"


def test_renamed_many_to_many_target_keeps_its_links(project: Project, tmp_path: Path) -> None:
    project.write(_specs(STATION, LINE % "Station"))
    assert project.build().code == 0
    project.migrate_ok("upgrade")
    for url in project.urls.values():
        execute(
            url,
            "INSERT INTO stations (name, code) VALUES ('a', 1), ('b', 2)",
            "INSERT INTO lines (name) VALUES ('red')",
            "INSERT INTO line_stations (station_id, line_id) VALUES (1, 1), (2, 1)",
        )
    project.write(_specs(STOP, LINE % "Stop"))
    built = project.build()  # no --allow-destructive: nothing is lost
    assert built.code == 0, built.text
    assert "rename column line_stations.station_id to stop_id" in built.out
    project.migrate_ok("upgrade")
    project.migrate_ok("check")
    for url in project.urls.values():
        links = execute(url, "SELECT stop_id, line_id FROM line_stations ORDER BY stop_id")[0]
        assert links == [(1, 1), (2, 1)]
        # a new row takes the next id of the renamed table's sequence
        execute(url, "INSERT INTO stops (name, code) VALUES ('c', 3)")
        assert execute(url, "SELECT max(id) FROM stops")[0] == [(3,)]
    _assert_like_fresh(project, tmp_path)
    project.migrate_ok("downgrade", "-1")
    for url in project.urls.values():
        assert execute(url, "SELECT count(*) FROM line_stations WHERE station_id = 2")[0] == [(1,)]
    project.migrate_ok("upgrade")
    project.migrate_ok("check")


def test_int_to_string_is_safe_and_downgrades(project: Project, tmp_path: Path) -> None:
    project.write(_specs(STATION, LINE % "Station"))
    assert project.build().code == 0
    project.migrate_ok("upgrade")
    for url in project.urls.values():
        execute(url, "INSERT INTO stations (name, code) VALUES ('a', -2147483648), ('b', 7)")
    project.write(_specs(STATION.replace("{type: int}", "{type: string}"), LINE % "Station"))
    built = project.build()  # every integer fits a 255-character string
    assert built.code == 0, built.text
    project.migrate_ok("upgrade")
    project.migrate_ok("check")
    for url in project.urls.values():
        codes = execute(url, "SELECT code FROM stations ORDER BY id")[0]
        assert codes == [("-2147483648",), ("7",)]
    _assert_like_fresh(project, tmp_path)
    for url in project.urls.values():
        execute(url, "UPDATE stations SET code = 'x7' WHERE id = 2")
    _refused(project.migrate("downgrade", "-1"), "stations.code", "id=2", "'x7'")
    for url in project.urls.values():
        execute(url, "UPDATE stations SET code = '8' WHERE id = 2")
    project.migrate_ok("downgrade", "-1")  # PostgreSQL casts back with USING
    for url in project.urls.values():
        assert execute(url, "SELECT code FROM stations ORDER BY id")[0] == [(-2147483648,), (8,)]


def test_int_to_narrow_decimal_is_checked_against_the_data(project: Project) -> None:
    project.write(_specs(STATION, LINE % "Station"))
    assert project.build().code == 0
    project.migrate_ok("upgrade")
    for url in project.urls.values():
        execute(url, "INSERT INTO stations (name, code) VALUES ('a', 1234567), ('b', 5)")
    narrow = STATION.replace("{type: int}", "{type: decimal, precision: 8, scale: 2}")
    project.write(_specs(narrow, LINE % "Station"))
    refused = project.build()
    assert refused.code == 1 and "change type of stations.code" in refused.err, refused.text
    assert project.build("--allow-destructive").code == 0
    _refused(project.migrate("upgrade"), "stations.code", "id=1", "1234567")
    for url in project.urls.values():
        execute(url, "UPDATE stations SET code = 123456 WHERE id = 1")
    project.migrate_ok("upgrade")
    project.migrate_ok("check")


def test_narrowing_a_string_refuses_long_values(project: Project) -> None:
    project.write(_specs(STATION, LINE % "Station"))
    assert project.build().code == 0
    project.migrate_ok("upgrade")
    for url in project.urls.values():
        execute(url, "INSERT INTO stations (name, code) VALUES ('a-long-name', 1), ('b', 2)")
    project.write(_specs(STATION.replace("max_length: 40", "max_length: 5"), LINE % "Station"))
    assert project.build("--allow-destructive").code == 0
    _refused(project.migrate("upgrade"), "stations.name", "id=1", "a-long-name")
    for url in project.urls.values():
        assert leftovers(url) == []
        execute(url, "UPDATE stations SET name = 'a' WHERE id = 1")
    project.migrate_ok("upgrade")
    project.migrate_ok("check")


def test_unique_over_duplicates_refused_before_any_change(project: Project) -> None:
    project.write(_specs(STATION, LINE % "Station"))
    assert project.build().code == 0
    project.migrate_ok("upgrade")
    for url in project.urls.values():
        execute(url, "INSERT INTO stations (name, code) VALUES ('a', 1), ('a', 2), ('b', 3)")
    unique = STATION.replace("max_length: 40}", "max_length: 40, unique: true}")
    project.write(_specs(unique, LINE % "Station"))
    assert project.build().code == 0
    _refused(project.migrate("upgrade"), "uq_stations_name", "name='a'")
    for url in project.urls.values():
        assert leftovers(url) == []
    _refused(project.migrate("upgrade"), "uq_stations_name")  # still refused, same way
    for url in project.urls.values():
        execute(url, "UPDATE stations SET name = 'c' WHERE id = 2")
    project.migrate_ok("upgrade")
    project.migrate_ok("check")


def test_guards_are_one_paragraph(project: Project) -> None:
    """A guard that worked before (NOT NULL without a default) without its traceback."""
    project.write(_specs(STATION, LINE % "Station"))
    assert project.build().code == 0
    project.migrate_ok("upgrade")
    for url in project.urls.values():
        execute(url, "INSERT INTO stations (name, code) VALUES ('a', 1)")
    required = STATION.replace("code: {type: int}", "code: {type: int}\n  zone: {type: int}")
    project.write(_specs(required, LINE % "Station"))
    assert project.build("--allow-destructive").code == 0
    _refused(project.migrate("upgrade"), "stations", "1 row(s) exist")


@pytest.mark.parametrize("step", ["-1", "base"])
def test_downgrade_steps_from_the_cli(project: Project, step: str) -> None:
    project.write(_specs(STATION, LINE % "Station"))
    assert project.build().code == 0
    project.migrate_ok("upgrade")
    project.migrate_ok("downgrade", step)
    for url in project.urls.values():
        assert "stations" not in describe(url)["tables"]


def test_new_check_over_breaking_rows_refused_before_any_change(project: Project) -> None:
    """A new ``min`` is a CHECK the rows are tested against first (was: a raw driver error
    on PostgreSQL, and on SQLite a failed rebuild leaving ``_alembic_tmp_stations``)."""
    project.write(_specs(STATION, LINE % "Station"))
    assert project.build().code == 0
    project.migrate_ok("upgrade")
    for url in project.urls.values():
        execute(url, "INSERT INTO stations (name, code) VALUES ('a', -4), ('b', 2)")
    project.write(_specs(STATION.replace("{type: int}", "{type: int, min: 0}"), LINE % "Station"))
    assert project.build().code == 0
    _refused(project.migrate("upgrade"), "ck_stations_code_min", "id=1", "code=-4")
    for url in project.urls.values():
        assert leftovers(url) == []
        execute(url, "UPDATE stations SET code = 4 WHERE id = 1")
    project.migrate_ok("upgrade")
    project.migrate_ok("check")
