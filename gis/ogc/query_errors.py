"""The safety net under validation: a data error raised while PostgreSQL evaluates values the client sent is a 400.

Validation refuses what it can before any SQL runs (gis.ogc.limits). What it cannot see depends on the data, e.g.
`kenpei * 1e300 > 1` overflows only on rows where kenpei exceeds 1.8e8. Such errors become InvalidParameter naming
the parameter(s) that can cause them, in our words: PostgreSQL's text never reaches the client. Anything else (a
lost connection, a syntax error in our SQL, a data error with no client value that could explain it) is re-raised:
a query-building bug must still surface as a 500 and be logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from asyncpg import exceptions as pg

from gis.errors import InvalidParameter
from gis.ogc.items import ItemsQuery, param_sources

log = logging.getLogger("gis.api")
EQUALS = "="  # stands for every equality parameter the request has

# (error class, parameters that can cause it, what the client is told)
_DATA_ERRORS: tuple[tuple[type[asyncpg.PostgresError], tuple[str, ...], str], ...] = (
    (pg.NumericValueOutOfRangeError, ("filter",), "a number is out of range (an arithmetic overflow on this data)"),
    (pg.DivisionByZeroError, ("filter",), "division by zero"),
    (pg.InvalidEscapeSequenceError, ("filter",), "a LIKE pattern has an invalid escape (\\ must precede a character)"),
    (pg.InvalidRegularExpressionError, ("filter",), "a pattern is not valid"),
    (pg.CharacterNotInRepertoireError, ("filter", EQUALS), "a text value has a character that cannot be stored"),
    (pg.UntranslatableCharacterError, ("filter", EQUALS), "a text value has a character that cannot be stored"),
    (pg.InvalidTextRepresentationError, ("filter", EQUALS), "a value cannot be read as the property's type"),
    (pg.DatetimeFieldOverflowError, ("datetime", "filter"), "a date or time is out of range"),
    (pg.InvalidDatetimeFormatError, ("datetime", "filter"), "a date or time is not valid"),
    (pg.InvalidParameterValueError, ("filter", "bbox"), "a value is out of range"),
)
# PostGIS reports its own input errors as XX000; only these messages are about the client's geometry or CRS.
_TRANSFORM = re.compile(r"^(transform|ST_Transform|GetProj|Invalid reserved SRID|Cannot find SRID|lwgeom_transform)")
_GEOS = re.compile(r"GEOS|TopologyException|IllegalArgumentException|requires more points|Invalid (polygon|geometry)")
_ARGUMENT = re.compile(r"^invalid input for query argument \$(\d+)")


def _present(query: ItemsQuery) -> dict[str, list[str]]:
    """Which client parameters went into the query (equality parameters under EQUALS)."""
    return {
        "filter": ["filter"] if query.filter_sql else [],
        "bbox": ["bbox"] if query.bbox is not None else [],
        "datetime": ["datetime"] if query.interval is not None else [],
        EQUALS: list(query.equals),
    }


def _candidates(exc: BaseException, query: ItemsQuery) -> tuple[list[str], str] | None:
    present = _present(query)
    if type(exc) is pg.DataError and (found := _ARGUMENT.match(str(exc))):  # asyncpg could not encode a value
        sources = param_sources(query)
        index = int(found[1]) - 1
        return ([sources[index]], "a value is out of range") if index < len(sources) else None
    if isinstance(exc, pg.InternalServerError):
        message = str(exc)
        if _TRANSFORM.search(message):
            return present["bbox"] + present["filter"], "coordinates cannot be transformed to the data's CRS"
        if _GEOS.search(message):
            return present["filter"], "a geometry cannot be evaluated (is it valid?)"
        return None
    for cls, causes, text in _DATA_ERRORS:
        if isinstance(exc, cls):
            return [name for cause in causes for name in present[cause]], text
    return None


def as_client_error(exc: BaseException, query: ItemsQuery) -> InvalidParameter | None:
    """The 400 for a database error caused by the client's values, or None when no client value explains it."""
    found = _candidates(exc, query)
    if found is None or not found[0]:
        return None
    names, text = found
    return InvalidParameter(f"{' / '.join(dict.fromkeys(names))}: {text}")


@contextmanager
def client_input_errors(query: ItemsQuery) -> Iterator[None]:
    """Run a query built from `query`; data errors the client's values caused are raised as InvalidParameter."""
    try:
        yield
    except (pg.DataError, pg.InternalServerError) as exc:
        mapped = as_client_error(exc, query)
        if mapped is None:
            raise
        # Staff see PostgreSQL's words in the log; the client gets ours.
        log.info("refused %s items query: %s: %s", query.layer.id, type(exc).__name__, exc)
        raise mapped from None
