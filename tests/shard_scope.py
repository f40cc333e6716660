"""Which hot tables a statement touches without naming their community (the statement-scope
check of README "Sharding").

A statement is analysed from the SQLAlchemy construct it was compiled from
(`context.compiled.statement`), not from its text: every SELECT (the outer one, subqueries,
the parts of a UNION, an EXISTS), UPDATE, DELETE and INSERT is looked at on its own. A hot
table named in a SELECT's FROM (or a JOIN), an UPDATE or a DELETE is scoped when a top-level
AND-ed condition of that statement (its WHERE or a JOIN's ON) equates its `community_id`
with a value (a bound parameter, a literal, `= ANY(:array)`, `IN (...)`), or with the
`community_id` of another table of the statement that is scoped (a join on the community).
An INSERT into a hot table is scoped when it names `community_id` among its columns. A few
cross-community reads are allowed by name (`ALLOWED`, each documented in the README).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Table
from sqlalchemy.sql import elements, operators, selectable
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.visitors import iterate

# The tables that grow with a city's drops, households and ledgers: distributed by
# community on a sharded database (README "Sharding").
HOT = frozenset({
    "drop_record", "drop_regrade", "ledger_entry", "points_account",
    "card", "household", "household_member", "household_event", "dirty_day",
    "rollup_station_day", "rollup_coverage_day", "rollup_community_day",
    "rollup_household_month", "rollup_hour_day", "rollup_building_day", "rollup_day",
})
# (table, column): a hot table constrained by `column = value` instead of its community,
# an allowed cross-community read. A resident's own memberships, found by their account
# (README "Sharding": pages that read across communities).
ALLOWED = frozenset({("household_member", "account_id")})
# Whole statements allowed to read a hot table across communities: SQLite's reservation of
# new drop ids after the table's highest id (`stations.services._reserve_ids`). SQLite is
# one node with one id space and is never sharded; PostgreSQL takes the ids from the
# table's sequence, no table read at all (README "Sharding").
ALLOWED_SQL = frozenset({"SELECT max(drop_record.id) AS max_1 \nFROM drop_record"})

EQUALS = {operators.eq, operators.in_op}


def _table_name(from_: Any) -> str | None:
    if isinstance(from_, Table):
        return from_.name
    if isinstance(from_, selectable.Alias) and isinstance(from_.element, Table):
        return from_.element.name
    return None


def _conjuncts(clause: Any) -> Iterator[Any]:
    """The top-level AND-ed conditions of a clause."""
    if clause is None:
        return
    if isinstance(clause, elements.Grouping):
        yield from _conjuncts(clause.element)
    elif isinstance(clause, elements.BooleanClauseList) and clause.operator is operators.and_:
        for c in clause.clauses:
            yield from _conjuncts(c)
    else:
        yield clause


def _flatten(from_: Any, ons: list[Any]) -> Iterator[Any]:
    """The tables (and aliases) of a FROM item, collecting the JOINs' ON clauses."""
    if isinstance(from_, selectable.Join):
        ons.append(from_.onclause)
        yield from _flatten(from_.left, ons)
        yield from _flatten(from_.right, ons)
    else:
        yield from_


def _is_value(side: Any) -> bool:
    """A bound parameter, `ANY(:array)`, NULL, or a list of them: a value, not a column."""
    while isinstance(side, elements.Grouping):
        side = side.element
    if isinstance(side, elements.ClauseList):
        return all(_is_value(c) for c in side.clauses)
    return isinstance(side, elements.BindParameter | elements.CollectionAggregate
                      | elements.Null)


def _plain(element: Any) -> Any:
    """The element without the ORM's annotations (an annotated copy is another object)."""
    return element._deannotate() if hasattr(element, "_deannotate") else element


def _column_of(side: Any, froms: list[Any]) -> tuple[Any, str] | None:
    while isinstance(side, elements.Grouping):
        side = side.element
    if isinstance(side, elements.ColumnClause) and side.table is not None:
        table = _plain(side.table)
        for f in froms:
            if table is f:
                return f, side.name
    return None


def _unscoped(froms: list[Any], conditions: Iterable[Any]) -> list[str]:
    """The hot tables of `froms` that `conditions` do not tie to a community."""
    hot = [f for f in froms if _table_name(f) in HOT]
    if not hot:
        return []
    scoped: set[int] = set()
    links: list[tuple[Any, Any]] = []
    for cond in conditions:
        if not isinstance(cond, elements.BinaryExpression) or cond.operator not in EQUALS:
            continue
        left, right = _column_of(cond.left, froms), _column_of(cond.right, froms)
        for mine, other_side, theirs in ((left, cond.right, right), (right, cond.left, left)):
            if mine is None:
                continue
            table, column = mine
            if _is_value(other_side) and (column == "community_id"
                                          or (_table_name(table), column) in ALLOWED):
                scoped.add(id(table))
            elif column == "community_id" and theirs is not None \
                    and theirs[1] == "community_id":
                links.append((table, theirs[0]))
    changed = True
    while changed:
        changed = False
        for a, b in links:
            if (id(a) in scoped) != (id(b) in scoped):
                scoped |= {id(a), id(b)}
                changed = True
    return [str(_table_name(f)) for f in hot if id(f) not in scoped]


def _select_unscoped(stmt: selectable.Select[Any]) -> list[str]:
    ons: list[Any] = []
    froms = [_plain(t) for f in stmt.get_final_froms() for t in _flatten(f, ons)]
    conditions = [c for clause in [stmt.whereclause, *ons] for c in _conjuncts(clause)]
    return _unscoped(froms, conditions)


def unscoped_tables(stmt: Any, sql: str) -> list[str]:
    """The hot tables a compiled construct (and its SQL text) touches without naming their
    community."""
    if sql.strip() in ALLOWED_SQL:
        return []
    out: list[str] = []
    for element in iterate(stmt):
        if isinstance(element, selectable.Select):
            out += _select_unscoped(element)
        elif isinstance(element, Update | Delete):
            out += _unscoped([_plain(element.table)], _conjuncts(element.whereclause))
        elif isinstance(element, Insert):
            name = _table_name(element.table)
            if name in HOT and "community_id" not in _insert_columns(sql):
                out.append(name)
    return out


def _insert_columns(sql: str) -> set[str]:
    """The column names of an `INSERT INTO t (a, b, …)` text."""
    found = re.search(r"INSERT\s+INTO\s+\S+\s*\(([^)]*)\)", sql, re.IGNORECASE)
    return {c.strip().strip('"') for c in found.group(1).split(",")} if found else set()


def text_unscoped(sql: str) -> list[str]:
    """For a statement without a construct (text): the hot tables named in it when the
    text never says `community_id`."""
    words = set(re.findall(r"[a-z_]+", sql.lower()))
    return [] if "community_id" in words else sorted(HOT & words)
