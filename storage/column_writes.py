"""Column writes on the per-update hot path, without the ORM's unit of work.

Every update writes a few columns of rows it has just loaded: the answer into the draft, the
conversation's step, the account's last update id. Through the ORM each is a dirty attribute
that the commit's flush turns into an UPDATE (change tracking, a topological sort, bookkeeping
per object) and, on SQLite, one trip to aiosqlite's thread per statement: about a third of the
bot's own CPU per typed answer (issue 23). :func:`set_columns` instead shows the values on the
object at once (as loaded ones: nothing is dirty) and stages one prebuilt ``UPDATE … WHERE
<primary key>`` per row, which runs:

- before any query or flush of the session (as autoflush would: a query never sees the row
  without the write), and before a commit made some other way than :meth:`Database.session`;
- otherwise at :meth:`storage.db.Database.session`'s commit, where on SQLite the statements go
  to the connection's thread in the same trip as the COMMIT (``storage/db.py``).

A rollback drops what was staged; the ORM expires the objects, so they read the database again.
A column the ORM already holds a change for is written through the ORM instead, so the two never
write one column in the wrong order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, Update, bindparam, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Base

# The session's staged statements (``Session.info``): [(statement, parameters), ...].
STAGED = "kexie_staged_writes"
_PK = "kexie_pk"  # the primary key's parameter (no column is named so)

# Built once per (table, columns): a statement built per call costs its construction and its
# cache key every time.
_statements: dict[tuple[str, tuple[str, ...]], Update] = {}


def set_columns(session: Any, obj: Base, values: Mapping[str, object]) -> None:
    """Give the loaded row ``obj`` these column ``values`` (by attribute name), written before
    the session's next query or flush, or with its commit. The columns' ``onupdate`` defaults
    (``updated_at``) are set alongside, on the object too.

    ``session`` is the :class:`AsyncSession` or its sync :class:`Session`. An object not in the
    database yet, deleted, or with an ORM change pending on one of these columns is changed
    through the ORM instead (the same effect, at the flush).
    """
    state = inspect(obj)
    sync = getattr(session, "sync_session", session)
    if (
        not state.persistent
        or state in sync._deleted
        or (state.modified and any(key in state.committed_state for key in values))
    ):
        for key, value in values.items():
            setattr(obj, key, value)
        return
    mapper = state.mapper
    table = mapper.local_table
    assert isinstance(table, Table) and len(mapper.primary_key) == 1, mapper
    written = dict(values)
    for column in table.c:
        default = column.onupdate
        if default is None:
            continue
        key = mapper.get_property_by_column(column).key
        if key not in written:
            assert default.is_callable or default.is_scalar, column
            # A callable default is wrapped to take the execution context (unused by ours).
            arg: Any = default.arg
            written[key] = arg(None) if default.is_callable else arg
    columns = {key: str(mapper.columns[key].key) for key in written}
    statement = _statement(table, tuple(sorted(columns.values())), str(mapper.primary_key[0].key))
    parameters: dict[str, object] = {columns[key]: value for key, value in written.items()}
    identity = state.identity
    assert identity is not None
    parameters[_PK] = identity[0]
    sync.info.setdefault(STAGED, []).append((statement, parameters))
    for key, value in written.items():
        set_committed_value(obj, key, value)


def _statement(table: Table, columns: tuple[str, ...], pk: str) -> Update:
    found = _statements.get((table.name, columns))
    if found is None:
        found = (
            table.update()
            .where(table.c[pk] == bindparam(_PK))
            .values({name: bindparam(name) for name in columns})
        )
        _statements[(table.name, columns)] = found
    return found


def take_staged(session: Session) -> list[tuple[Update, dict[str, object]]]:
    """The session's staged statements, removed from it (for its commit to run them)."""
    staged: list[tuple[Update, dict[str, object]]] = session.info.pop(STAGED, None) or []
    return staged


def run_staged(session: Session) -> None:
    """Run the session's staged statements now, in order (inside SQLAlchemy's greenlet)."""
    staged = take_staged(session)
    if staged:
        connection = session.connection()
        for statement, parameters in staged:
            connection.execute(statement, parameters)


def install(session_class: type[Session]) -> None:
    """Run staged statements before the queries, flushes and commits of ``session_class``'s
    sessions, and drop them at a rollback."""

    @event.listens_for(session_class, "do_orm_execute")
    def _before_query(orm_execute_state: ORMExecuteState) -> None:
        run_staged(orm_execute_state.session)

    @event.listens_for(session_class, "before_flush")
    def _before_flush(session: Session, _context: UOWTransaction, _objects: object) -> None:
        run_staged(session)

    @event.listens_for(session_class, "before_commit")
    def _before_commit(session: Session) -> None:
        run_staged(session)

    @event.listens_for(session_class, "after_soft_rollback")
    def _after_rollback(session: Session, _previous: object) -> None:
        session.info.pop(STAGED, None)
