"""`gis serve` loads the bundled data on first start: a freshly migrated database counts as not loaded, even though
migrations give some (empty) layers a version, and a loaded one counts as loaded."""

from __future__ import annotations

from gis.cli.serve import _loaded


def test_a_migrated_empty_database_is_not_loaded(empty_url: str) -> None:
    assert not _loaded(empty_url)


def test_the_loaded_test_database_is_loaded(db_url: str) -> None:
    assert _loaded(db_url)
