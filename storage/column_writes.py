"""Column writes on the per-update hot path, without the ORM's unit of work.

Every update writes a few columns of rows it has just loaded: the answer into the draft, the
conversation's step, the account's last update id. Through the ORM each is a dirty attribute
that the commit's flush turns into an UPDATE (change tracking, a topological sort, bookkeeping
per object) and, on SQLite, one trip to aiosqlite's thread per statement: about a third of the
bot's own CPU per typed answer (issue 23). :func:`set_columns` instead shows the values on the
object at once (as loaded ones: nothing is dirty) and stages the row's columns for one prebuilt
``UPDATE … WHERE <primary key>`` (on PostgreSQL one statement for all the rows), which runs:

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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, Update, bindparam, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Base

# The session's staged writes (``Session.info``), one per row, in the order first written.
STAGED = "kexie_staged_writes"


@dataclass
class Write:
    """The staged columns of one row: ``values`` by column name, the row by its primary key."""

    table: Table
    pk: str  # the primary key's column
    key: object  # the row's primary key
    values: dict[str, object]


# Built once per shape: a statement built per call costs its construction and its cache key
# every time.
_statements: dict[tuple[tuple[str, tuple[str, ...]], ...], Update] = {}


def set_columns(session: Any, obj: Base, values: Mapping[str, object]) -> None:
    """Give the loaded row ``obj`` these column ``values`` (by attribute name), written before
    the session's next query or flush, or with its commit. The columns' ``onupdate`` defaults
    (``updated_at``) are set alongside, on the object too. Two writes to one row before then are
    one statement.

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
    identity = state.identity
    assert identity is not None
    staged: dict[tuple[str, object], Write] = sync.info.setdefault(STAGED, {})
    write = staged.get((table.name, identity[0]))
    if write is None:
        pk = str(mapper.primary_key[0].key)
        write = staged[(table.name, identity[0])] = Write(table, pk, identity[0], {})
    for key, value in written.items():
        write.values[str(mapper.columns[key].key)] = value
        set_committed_value(obj, key, value)


def statements(writes: list[Write], *, together: bool) -> list[tuple[Update, dict[str, object]]]:
    """The statements that make ``writes``, with their parameters: one per row, or with
    ``together`` (PostgreSQL) one for all, the others as data-modifying CTEs of the last (each
    row once, so their order does not matter): one round trip instead of one each."""
    if not together or len(writes) == 1:
        return [(_statement([w]), _parameters([w])) for w in writes]
    return [(_statement(writes), _parameters(writes))]


def _statement(writes: list[Write]) -> Update:
    shape = tuple((w.table.name, tuple(sorted(w.values))) for w in writes)
    found = _statements.get(shape)
    if found is None:
        parts = [
            w.table.update()
            .where(w.table.c[w.pk] == bindparam(f"kexie_pk_{i}"))
            .values({name: bindparam(f"{name}_{i}") for name in sorted(w.values)})
            for i, w in enumerate(writes)
        ]
        found = parts[-1]
        if len(parts) > 1:
            found = found.add_cte(*(part.cte(f"kexie_w{i}") for i, part in enumerate(parts[:-1])))
        _statements[shape] = found
    return found


def _parameters(writes: list[Write]) -> dict[str, object]:
    parameters: dict[str, object] = {}
    for i, w in enumerate(writes):
        parameters[f"kexie_pk_{i}"] = w.key
        parameters.update({f"{name}_{i}": value for name, value in w.values.items()})
    return parameters


def take_staged(session: Session) -> list[Write]:
    """The session's staged writes, removed from it (for its commit to run them)."""
    staged: dict[tuple[str, object], Write] = session.info.pop(STAGED, None) or {}
    return list(staged.values())


def run_staged(session: Session) -> None:
    """Run the session's staged writes now (inside SQLAlchemy's greenlet)."""
    staged = take_staged(session)
    if staged:
        connection = session.connection()
        together = connection.dialect.name == "postgresql"
        for statement, parameters in statements(staged, together=together):
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
