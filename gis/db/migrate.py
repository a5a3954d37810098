"""Run the Alembic migrations from code (no alembic.ini needed on a user's machine)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from gis.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(url: str, public_role: str | None = None) -> Config:
    """An Alembic config pointing at the bundled migrations and this database (and the public role's name)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    cfg.attributes["public_role"] = public_role or Settings().public_role
    return cfg


def upgrade(url: str, revision: str = "heads", public_role: str | None = None) -> None:
    """Bring the schema to `revision`; at the heads the environment refuses a layer whose changes go unrecorded."""
    command.upgrade(alembic_config(url, public_role), revision)


def public_role() -> str:
    """Inside a migration: the public role's name, from the settings handed over by alembic_config."""
    from alembic import context

    return context.config.attributes.get("public_role") or Settings().public_role


def current(url: str) -> str | None:
    """The database's current revision."""
    from alembic.runtime.migration import MigrationContext

    from gis.db.connect import engine_for

    with engine_for(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
