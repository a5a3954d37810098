"""Access statistics kept as counts only: per JST day, per layer, page, API family and response class, and lookups
per 大字. Counted in memory on the hot path, flushed to `access_counts` by a background task, read by staff.

Nothing that could identify a person is ever counted: no IP address, user agent, cookie, token, query string,
address text or coordinates; keys come from the matched route (its template and a known layer id) and from the
大字 a lookup resolved to.
"""
