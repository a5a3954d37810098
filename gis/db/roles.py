"""The public role fails closed: public requests log in as it, and the service refuses to start when it is unsafe."""

from __future__ import annotations

import asyncpg

from gis.errors import ConfigurationError

# Every way the logged-in role could reach personal or staff data. Each row names one problem; none is safe.
PROBLEMS_SQL = """
WITH me AS (SELECT r.* FROM pg_roles r WHERE r.rolname = current_user)
SELECT 'is a superuser or bypasses row security' FROM me WHERE rolsuper OR rolbypassrls
UNION ALL
SELECT 'can create roles or databases' FROM me WHERE rolcreaterole OR rolcreatedb
UNION ALL
SELECT 'is a member of the owner of table ' || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('public', 'private') AND c.relkind IN ('r', 'p')
  AND pg_has_role(current_user, c.relowner, 'USAGE')
UNION ALL
SELECT 'can use schema private' WHERE has_schema_privilege(current_user, 'private', 'USAGE')
UNION ALL
SELECT 'can read private.' || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'private' AND c.relkind IN ('r', 'p', 'v', 'm')
  AND has_table_privilege(current_user, c.oid, 'SELECT')
UNION ALL
SELECT 'can read staff_tokens' WHERE to_regclass('public.staff_tokens') IS NOT NULL
  AND has_table_privilege(current_user, 'public.staff_tokens', 'SELECT')
UNION ALL
SELECT 'can read ' || t FROM unnest(ARRAY['public.layer_revisions', 'public.layer_revision_counts',
                                          'public.layer_row_changes']) t
WHERE to_regclass(t) IS NOT NULL AND has_table_privilege(current_user, t, 'SELECT')
UNION ALL
SELECT 'can read sources.' || a.attname
FROM pg_attribute a
WHERE to_regclass('public.sources') IS NOT NULL AND a.attrelid = 'public.sources'::regclass
  AND a.attname IN ('file_name', 'file_sha256', 'report')
  AND has_column_privilege(current_user, 'public.sources', a.attname, 'SELECT')
UNION ALL
SELECT 'can read ' || a.attrelid::regclass || '.' || a.attname
FROM pg_attribute a
WHERE a.attrelid IN (SELECT to_regclass(t) FROM unnest(ARRAY['public.sensor_rules', 'public.sensor_events']) t)
  AND a.attname IN ('webhook_url', 'delivery', 'attempts', 'next_attempt_at', 'delivered_at')
  AND has_column_privilege(current_user, a.attrelid, a.attname, 'SELECT')
UNION ALL
SELECT 'can write table ' || c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND (has_table_privilege(current_user, c.oid, 'INSERT') OR has_table_privilege(current_user, c.oid, 'UPDATE')
       OR has_table_privilege(current_user, c.oid, 'DELETE') OR has_table_privilege(current_user, c.oid, 'TRUNCATE'))
"""


def _refuse(role: str, problems: list[str]) -> ConfigurationError:
    return ConfigurationError(
        f"refusing to serve: the public role '{role}' {'; '.join(problems[:5])}. Public requests must not be able "
        "to reach personal or staff data: revoke those privileges (or run `gis migrate`)."
    )


async def check_public_role(conn: asyncpg.Connection, role: str) -> None:
    """Raise ConfigurationError unless this connection is logged in as `role` and that role is read-only and blind
    to the private schema, staff tokens, the layer history, import file details and the sensor webhook's address and
    outbox."""
    user = await conn.fetchval("SELECT current_user")
    if user != role:
        raise _refuse(role, [f"is not what public connections log in as (they are '{user}')"])
    problems = [r[0] for r in await conn.fetch(PROBLEMS_SQL)]
    if problems:
        raise _refuse(role, problems)


def login_error(role: str, exc: BaseException) -> ConfigurationError:
    """The message for a public role that cannot log in (missing, NOLOGIN, wrong password)."""
    # PostgreSQL answers a missing role like a wrong password (it does not reveal which roles exist).
    if isinstance(exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        why = "it does not exist, may not log in, or its password (GIS_PUBLIC_PASSWORD) is wrong"
    else:
        why = f"the login failed ({type(exc).__name__})"
    return ConfigurationError(
        f"refusing to serve: public requests log in as role '{role}', but {why}. Create it with "
        f"CREATE ROLE {role} LOGIN PASSWORD '...'; then set GIS_PUBLIC_PASSWORD and run `gis migrate`."
    )
