"""`gis history LAYER` and `gis rollback LAYER REVISION`: a layer's revisions, and restoring one."""

from __future__ import annotations

from typing import Annotated

import psycopg
import typer
from rich.table import Table

from gis.cli.common import app, database, fail, out
from gis.errors import GisError, NotFound
from gis.settings import Settings


@app.command("history")
def history_cmd(
    layer: Annotated[str, typer.Argument(help="collection id, e.g. garbage_points")],
    limit: Annotated[int, typer.Option(help="how many revisions (newest first)")] = 50,
) -> None:
    """List a layer's revisions, newest first: who, when (JST), what kind, rows added/changed/removed."""
    from gis.edits.audit import history
    from layers import LAYERS

    if layer not in LAYERS:
        fail(NotFound(f"unknown layer '{layer}': one of {', '.join(LAYERS)}"))
    with database(Settings()) as url, psycopg.connect(url) as conn:
        h = history(conn, layer, limit)
    table = Table("rev", "time (JST)", "kind", "actor", "role", "added", "changed", "removed", "private", "note")
    for r in h["revisions"]:
        note = r["note"] or ""
        if r["rolled_back_to"] is not None:
            note = f"→ revision {r['rolled_back_to']}"
        table.add_row(
            str(r["revision"]),
            r["time"],
            r["kind"],
            r["actor"],
            r["role"] or "",
            str(r["rows_added"]),
            str(r["rows_changed"]),
            str(r["rows_removed"]),
            str(r["private_rows"]),
            note,
        )
    out.print(table)
    out.print(f"{layer}: current revision {h['current_revision']}")


@app.command("rollback")
def rollback_cmd(
    layer: Annotated[str, typer.Argument(help="collection id, e.g. cemeteries")],
    revision: Annotated[int, typer.Argument(help="the revision to restore (see `gis history LAYER`)")],
) -> None:
    """Restore a layer (and its private rows) exactly as it was after REVISION; the rollback is a new revision."""
    from gis.edits.rollback import rollback

    try:
        with database(Settings()) as url, psycopg.connect(url) as conn:
            r = rollback(conn, layer, revision, actor="cli")
    except GisError as e:
        fail(e)
    out.print(
        f"{r.layer}: restored revision {r.to_revision} as revision {r.revision} "
        f"({r.rows_added} rows added, {r.rows_changed} changed, {r.rows_removed} removed; version {r.version})"
    )
    for line in r.report:
        out.print(f"  {line}")
