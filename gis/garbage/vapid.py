"""The service's VAPID key pair (RFC 8292): made once, kept server-side, its public half given to browsers."""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from gis.errors import ConfigurationError
from gis.settings import Settings

_lock = threading.Lock()
_loaded: dict[tuple[str | None, str], Vapid] = {}


def key_file(settings: Settings) -> Path:
    """Where the private key lives when GIS_VAPID_PRIVATE_KEY is not set."""
    return settings.vapid_key_file or settings.var_dir / "push" / "vapid_private.pem"


def b64url(raw: bytes) -> str:
    """Unpadded base64url, as the Push API and VAPID spell keys."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def load(settings: Settings) -> Vapid:
    """The key pair: from GIS_VAPID_PRIVATE_KEY, else from the key file (made there, mode 600, when missing)."""
    path = key_file(settings)
    cache_key = (settings.vapid_private_key, str(path))
    with _lock:
        if cache_key not in _loaded:
            _loaded[cache_key] = (
                _from_setting(settings.vapid_private_key) if settings.vapid_private_key else _file(path)
            )
        return _loaded[cache_key]


def public_key(settings: Settings) -> str:
    """The application server key for `pushManager.subscribe`: the uncompressed P-256 point, base64url."""
    point = load(settings).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def _from_setting(text: str) -> Vapid:
    try:
        if "-----BEGIN" in text:
            return _p256(serialization.load_pem_private_key(text.strip().encode(), password=None))
        return _p256(Vapid.from_string(text.strip()).private_key)
    except Exception:  # the key's own text must not reach a log or a message
        raise ConfigurationError(
            "GIS_VAPID_PRIVATE_KEY is not a P-256 private key (PEM, or base64url raw/DER)"
        ) from None


def _file(path: Path) -> Vapid:
    if not path.exists():
        _create(path)
    try:
        return _p256(serialization.load_pem_private_key(path.read_bytes(), password=None))
    except OSError as e:
        raise ConfigurationError(f"cannot read the VAPID key file {path}: {e.strerror or e}") from None
    except (ValueError, TypeError):
        raise ConfigurationError(f"the VAPID key file {path} is not a P-256 private key in PEM") from None


def _p256(key: object) -> Vapid:
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 key")
    return Vapid(private_key=key)


def _create(path: Path) -> None:
    """Write a new key so that concurrent workers and the cron job all end up with the same one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            # link() refuses to replace: the first writer wins and every other process reads its key.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as e:
        raise ConfigurationError(f"cannot create the VAPID key file {path}: {e.strerror or e}") from None
