"""Staff tokens: random bearer tokens stored only as SHA-256 hashes, with a role."""

from __future__ import annotations

import hashlib
import secrets

import psycopg

from gis.errors import InvalidParameter

ROLES = ("admin", "editor", "device")


def hash_token(token: str) -> str:
    """The stored form of a token (tokens are 256-bit random, so a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: psycopg.Connection, name: str, role: str) -> str:
    """Store a new token and return its only plaintext copy."""
    if role not in ROLES:
        raise InvalidParameter(f"unknown role '{role}': one of {', '.join(ROLES)}")
    if not name.strip():
        raise InvalidParameter("a token needs a --name naming its holder")
    token = "gis_" + secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute(
            "INSERT INTO staff_tokens (name, role, token_sha256) VALUES (%s, %s, %s)",
            (name.strip(), role, hash_token(token)),
        )
    return token


def list_tokens(conn: psycopg.Connection) -> list[tuple]:
    """Every token's id, name, role, creation and revocation time (never the hash)."""
    return conn.execute("SELECT id, name, role, created_at, revoked_at FROM staff_tokens ORDER BY id").fetchall()


def revoke_token(conn: psycopg.Connection, token_id: int) -> bool:
    """Revoke a token by id; False when there was no such active token."""
    with conn.transaction():
        cur = conn.execute(
            "UPDATE staff_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", (token_id,)
        )
    return cur.rowcount == 1
