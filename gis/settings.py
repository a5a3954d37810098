"""Service settings, read from the environment (and .env) only when asked for, and checked before serving."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gis.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parents[1]
# Passwords nobody may deploy with (docker-compose.yml's old default among them).
WEAK_PASSWORDS = {"change-me", "changeme", "password", "postgres", "gis", "secret", ""}
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# The browsers' push services (Chrome/Opera/Brave: FCM, Firefox: Mozilla autopush, Safari: Apple, Edge: WNS): the
# server POSTs to a subscription's endpoint, so only these hosts are accepted (no requests to arbitrary URLs).
PUSH_SERVICES = (
    "fcm.googleapis.com,android.googleapis.com,push.services.mozilla.com,web.push.apple.com,notify.windows.com"
)


class Settings(BaseSettings):
    """Settings for the CLI and the API; build with Settings(), never at import time."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL of the primary; unset: the embedded cluster under var/ is used"
    )
    database_read_url: str | None = Field(default=None, description="read replica for public requests")
    var_dir: Path = Field(default=REPO_ROOT / "var", alias="GIS_VAR_DIR")
    data_dir: Path = Field(default=REPO_ROOT / "data", alias="GIS_DATA_DIR")
    host: str = Field(default="127.0.0.1", alias="GIS_HOST")
    port: int = Field(default=8000, alias="GIS_PORT")
    embedded_port: int = Field(default=54340, alias="GIS_EMBEDDED_PORT")
    public_role: str = Field(default="gis_public", alias="GIS_PUBLIC_ROLE", description="login role of public reads")
    public_password: str | None = Field(
        default=None,
        alias="GIS_PUBLIC_PASSWORD",
        description="the public role's password (the embedded cluster keeps its own under var/)",
    )
    pool_size: int = Field(default=8, alias="GIS_POOL_SIZE")
    response_cache_mib: int = Field(default=64, alias="GIS_RESPONSE_CACHE_MIB", description="response cache bound")
    tile_cache_mib: int = Field(default=128, alias="GIS_TILE_CACHE_MIB", description="tile cache bound; 0: off")
    meta_cache_mib: int = Field(default=32, alias="GIS_META_CACHE_MIB", description="metadata, pages, geocoder")
    max_body_kib: int = Field(default=2048, alias="GIS_MAX_BODY_KIB", description="request body limit (lookups)")
    max_upload_mib: int = Field(default=64, alias="GIS_MAX_UPLOAD_MIB", description="body limit of staff uploads")
    # Behind a reverse proxy, per-client limits (farmland inquiries) must key on the forwarded client address.
    forwarded_allow_ips: str | None = Field(
        default=None,
        alias="GIS_FORWARDED_ALLOW_IPS",
        description="proxy addresses whose X-Forwarded-For is trusted (comma-separated); unset: none",
    )
    vapid_private_key: str | None = Field(
        default=None,
        alias="GIS_VAPID_PRIVATE_KEY",
        description="Web Push VAPID private key (PEM, or base64url raw/DER); unset: the key file",
    )
    vapid_key_file: Path | None = Field(
        default=None,
        alias="GIS_VAPID_KEY_FILE",
        description="VAPID private key PEM file; unset: <GIS_VAR_DIR>/push/vapid_private.pem, made on first use",
    )
    vapid_subject: str = Field(
        default="mailto:webmaster@localhost",
        alias="GIS_VAPID_SUBJECT",
        description="the contact push services see in every VAPID claim (mailto: or https: URL)",
    )
    push_services: str = Field(
        default=PUSH_SERVICES,
        alias="GIS_PUSH_SERVICES",
        description="comma-separated host suffixes of the push services a subscription endpoint may point to",
    )
    push_allow_loopback: bool = Field(
        default=False, alias="GIS_PUSH_ALLOW_LOOPBACK", description="tests only: accept http://127.0.0.1 endpoints"
    )
    stats_enabled: bool = Field(
        default=True, alias="GIS_STATS", description="count requests per layer, page, API family and day (0: off)"
    )
    stats_flush_seconds: float = Field(
        default=60.0, gt=0, alias="GIS_STATS_FLUSH_SECONDS", description="how often a worker writes its counts"
    )
    stats_max_keys: int = Field(
        default=20_000, ge=100, alias="GIS_STATS_MAX_KEYS", description="pending counts a worker keeps (outages)"
    )
    sensor_sweep_seconds: float = Field(
        default=30,
        alias="GIS_SENSOR_SWEEP_SECONDS",
        description="how often each API worker looks for silent sensors and makes observation partitions; 0: off",
    )
    sensor_deliver_seconds: float = Field(
        default=5,
        alias="GIS_SENSOR_DELIVER_SECONDS",
        description="how often each API worker sends due sensor events to the webhook; 0: off",
    )

    @field_validator("public_role")
    @classmethod
    def _role_name(cls, value: str) -> str:
        if not ROLE_NAME.fullmatch(value):
            raise ValueError(f"GIS_PUBLIC_ROLE '{value}' is not a plain lower-case role name")
        return value

    @field_validator("vapid_subject")
    @classmethod
    def _vapid_subject(cls, value: str) -> str:
        if not re.fullmatch(r"mailto:[^@\s]+@[^@\s]+|https://[^\s/]+\S*", value):
            raise ValueError(f"GIS_VAPID_SUBJECT '{value}' is neither a mailto: address nor an https: URL")
        return value

    @property
    def embedded(self) -> bool:
        """True when no external database is configured."""
        return not self.database_url

    def check(self) -> None:
        """Refuse settings a service must not run with: weak passwords on a real server, an unwritable var/."""
        if not self.embedded:
            for name, url in (("DATABASE_URL", self.database_url), ("DATABASE_READ_URL", self.database_read_url)):
                if url and (urlsplit(url).password or "") in WEAK_PASSWORDS:
                    raise ConfigurationError(f"{name} uses a default or weak password: set a real one")
            if self.public_password is not None and self.public_password in WEAK_PASSWORDS:
                raise ConfigurationError("GIS_PUBLIC_PASSWORD is a default or weak password: set a real one")
        try:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.var_dir, prefix=".write-check-"):
                pass
        except OSError as e:
            raise ConfigurationError(f"GIS_VAR_DIR {self.var_dir} is not writable: {e.strerror or e}") from None


def with_login(url: str, user: str, password: str | None) -> str:
    """The same server and database as `url`, logged in as another role."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password is not None else "")
    netloc = f"{auth}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
