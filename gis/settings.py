"""Service settings, read from the environment (and .env) only when asked for."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Settings for the CLI and the API; build with Settings(), never at import time."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset: the embedded cluster under var/ is used"
    )
    database_read_url: str | None = Field(default=None, description="read replica for public requests")
    var_dir: Path = Field(default=REPO_ROOT / "var", alias="GIS_VAR_DIR")
    data_dir: Path = Field(default=REPO_ROOT / "data", alias="GIS_DATA_DIR")
    host: str = Field(default="127.0.0.1", alias="GIS_HOST")
    port: int = Field(default=8000, alias="GIS_PORT")
    embedded_port: int = Field(default=54340, alias="GIS_EMBEDDED_PORT")
    public_role: str = Field(default="gis_public", alias="GIS_PUBLIC_ROLE")
    pool_size: int = Field(default=8, alias="GIS_POOL_SIZE")
    response_cache_mib: int = Field(default=64, alias="GIS_RESPONSE_CACHE_MIB", description="in-process LRU bound")
    tile_cache_mib: int = Field(default=128, alias="GIS_TILE_CACHE_MIB", description="tile LRU bound; 0 turns it off")

    @property
    def embedded(self) -> bool:
        """True when no external database is configured."""
        return not self.database_url
