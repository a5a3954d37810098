"""`python -m gis` runs the CLI."""

from gis.cli import app

app()
