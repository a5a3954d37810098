"""The `gis` command: one module per command group, each registering its commands on the shared app."""

from gis.cli import addresses, data, db, farmland, garbage, garbage_remind, history, sensors, serve, tokens  # noqa: F401  (each module registers its commands)
from gis.cli.common import app

__all__ = ["app"]
