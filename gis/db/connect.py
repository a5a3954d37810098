"""Database URLs and engines for the CLI, migrations and imports (the API uses its own asyncpg pool)."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from gis.db.embedded import EmbeddedPostgres
from gis.errors import DatabaseUnavailable
from gis.settings import Settings, with_login


def embedded_for(settings: Settings) -> EmbeddedPostgres:
    """The embedded cluster that belongs to these settings."""
    return EmbeddedPostgres(
        root=settings.var_dir, preferred_port=settings.embedded_port, public_role=settings.public_role
    )


def database_url(settings: Settings, *, start: bool = False) -> str:
    """The libpq URL: DATABASE_URL, or the embedded cluster's (started first when asked)."""
    if settings.database_url:
        return settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    emb = embedded_for(settings)
    if start:
        emb.start()
    elif not emb.is_running():
        raise DatabaseUnavailable("the embedded database is not running: start it with `gis db start`")
    return emb.url()


def public_url(settings: Settings, url: str) -> str:
    """The URL public reads use: the read replica (else `url`), logged in as the public role with its own password."""
    base = settings.database_read_url or url
    password = settings.public_password
    if settings.embedded and password is None:
        # The embedded cluster keeps the role's password; a local replica (gis db replica) shares it.
        emb = embedded_for(settings)
        if emb.initialized():
            password = emb.public_password
    return with_login(base, settings.public_role, password)


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy form of a libpq URL (psycopg 3 driver)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    # No pool: the CLI and migrations are short-lived, and idle pooled connections would block
    # CREATE DATABASE ... TEMPLATE and DROP DATABASE.
    return sa.create_engine(sqlalchemy_url(url), poolclass=NullPool)


def engine_for(url: str) -> Engine:
    """A cached SQLAlchemy engine for a URL."""
    return _engine(url)
