"""`gis token create|list|revoke`: staff bearer tokens."""

from __future__ import annotations

from typing import Annotated

import psycopg
import typer
from rich.table import Table

from gis.cli.common import app, database, fail, out
from gis.errors import GisError
from gis.settings import Settings

token_app = typer.Typer(help="Staff bearer tokens (roles: admin, editor, device).")
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin | editor | device")],
    name: Annotated[str, typer.Option(help="who or what holds the token")],
) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    from gis.db.tokens import create_token

    try:
        with database(Settings()) as url, psycopg.connect(url) as conn:
            token = create_token(conn, name, role)
    except GisError as e:
        fail(e)
    print(token)


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their values)."""
    from gis.db.tokens import list_tokens

    with database(Settings()) as url, psycopg.connect(url) as conn:
        rows = list_tokens(conn)
    table = Table("id", "name", "role", "created", "revoked")
    for r in rows:
        table.add_row(*(str(v) if v is not None else "" for v in r))
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="token id from `gis token list`")]) -> None:
    """Revoke a token."""
    from gis.db.tokens import revoke_token

    with database(Settings()) as url, psycopg.connect(url) as conn:
        ok = revoke_token(conn, token_id)
    out.print("revoked" if ok else "no such active token")
    if not ok:
        raise typer.Exit(1)
