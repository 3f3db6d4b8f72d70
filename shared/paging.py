"""How deep a list may be paged.

Bounded so that no number reaches the database that it cannot hold (SQLite's and
PostgreSQL's integers end at 2^63 - 1: past that, a driver error, not a 422). No list is
paged that deep: a million is far beyond any of them, and a 422 past it.
"""

MAX_OFFSET = 1_000_000
