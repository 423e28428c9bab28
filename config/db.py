"""Database helpers the apps share.

The path of a missed call counts its statements (every one is a round trip to PostgreSQL, on the hottest path
we have), so a row that may already exist is inserted in one statement rather than Django's usual
look-up-then-create with a savepoint around the create.
"""

import functools
import select
from typing import Any, Protocol, TypeVar, cast

from django.db import connection, connections, models, router
from django.db.models import sql
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL

M = TypeVar("M", bound=models.Model)


class TenantConnection(Protocol):
    """What django-tenants' database backend (the ENGINE in DATABASES) adds to a connection: the schema its
    queries run in. Django's own types know only Django's connection: where code switches or reads the schema it
    uses `tenant_connection` (or casts `connections[alias]` to this), so the type checker knows these."""

    schema_name: str
    # The client whose schema is set, or django-tenants' stand-in (FakeTenant) after set_schema(): untyped.
    tenant: Any
    include_public_schema: bool

    def set_tenant(self, tenant: Any, include_public: bool = True) -> None: ...

    def set_schema(
        self, schema_name: str, include_public: bool = True, tenant_type: str | None = None
    ) -> None: ...

    def set_schema_to_public(self) -> None: ...


# The same per-thread connection as django.db.connection, seen through django-tenants' backend.
tenant_connection = cast(TenantConnection, connection)


@functools.cache
def _inserted_fields(model: type[models.Model]) -> list:
    meta = model._meta
    return [field for field in meta.local_concrete_fields if not field.generated and field is not meta.pk]


def _insert_ignoring_conflicts(obj: models.Model, *, returning: list) -> tuple[str, str, list]:
    """(database alias, SQL, params) of INSERT … ON CONFLICT DO NOTHING RETURNING `returning` for obj, to be
    executed by the caller (compiler.execute_sql() expects a row back from every INSERT).

    Django compiles the SQL the first time for each model, RETURNING list and set of computed fields; later
    calls only bind obj's values (compiling cost about as much CPU as the rest of a caller's insert). A field
    computed by the INSERT is set to a RawSQL (its SQL is part of the statement, its params are bound)."""
    model = type(obj)
    using = router.db_for_write(model, instance=obj)
    fields = _inserted_fields(model)
    computed = tuple(
        value.sql if isinstance(value := getattr(obj, field.attname), RawSQL) else None for field in fields
    )
    key = (model, using, tuple(field.attname for field in returning), computed)
    statement = _insert_statements.get(key)
    if statement is None:
        statement = _insert_statements[key] = _insert_compiled(obj, using, returning)
    db = connections[using]
    params: list = []
    for field in fields:
        value = field.pre_save(obj, add=True)  # auto_now and the like, as save() would
        if isinstance(value, RawSQL):
            params.extend(value.params)
        elif hasattr(value, "resolve_expression"):
            raise TypeError(f"{field.name}: a value computed by the INSERT is a RawSQL, not {value!r}")
        else:
            params.append(field.get_db_prep_save(value, connection=db))
    return using, statement, params


# The compiled INSERT statements, by (model, alias, RETURNING attnames, SQL of each computed field or None).
_insert_statements: dict[tuple, str] = {}


def _insert_compiled(obj: models.Model, using: str, returning: list) -> str:
    query = sql.InsertQuery(type(obj), on_conflict=OnConflict.IGNORE)
    query.insert_values(_inserted_fields(type(obj)), [obj])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = returning
    [(statement, _params)] = compiler.as_sql()
    return statement


def sql_of(model: type[models.Model], expression) -> tuple[str, list]:
    """The SQL and params of `expression` as an INSERT into `model` would compile it: for a caller that keeps a
    computed field's SQL (the same for every value) to pass it as RawSQL."""
    query = sql.Query(model)
    compiler = query.get_compiler(using=router.db_for_write(model))
    return compiler.compile(expression.resolve_expression(query, allow_joins=False, for_save=True))


def insert_unless_exists(obj: models.Model) -> bool:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, as one statement: True when this call inserted the row
    (obj then has its pk, like after save()), False when a row with one of its unique values exists already.

    Inside a transaction a conflicting row that another transaction has inserted but not committed makes this
    wait for that transaction, exactly as a plain INSERT would; no savepoint is needed, because nothing fails.
    Signals (pre_save, post_save) are not sent: use it for rows nothing listens to at that level. A field set to
    a RawSQL (e.g. crm.services' opt-out check) is computed by the INSERT and read back into obj by RETURNING."""
    meta = obj._meta
    computed = [
        field for field in _inserted_fields(type(obj)) if isinstance(getattr(obj, field.attname), RawSQL)
    ]
    using, statement, params = _insert_ignoring_conflicts(obj, returning=[meta.pk, *computed])
    with connections[using].cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    for field, value in zip(computed, row[1:], strict=True):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    return True


def insert_or_read(obj: M, column: str) -> tuple[M | None, bool]:
    """`obj` inserted, or the row already holding its value of the unique `column`, in one statement:
    (the row, True when this call inserted it). (None, False) in the rare race where the row was inserted by a
    transaction that committed after this statement began (it conflicts, yet the statement cannot see it): the
    caller reads it again. The rules of insert_unless_exists hold (no signals; RawSQL values computed)."""
    model = type(obj)
    meta = model._meta
    using, insert, params = _insert_ignoring_conflicts(obj, returning=list(meta.concrete_fields))
    unique = next(field for field in meta.concrete_fields if field.name == column)
    with connections[using].cursor() as cursor:
        value = unique.get_db_prep_value(getattr(obj, unique.attname), connections[using], prepared=False)
        cursor.execute(_insert_or_read_sql(model, insert, unique.column), [*params, value])
        row = cursor.fetchone()
    if row is None:
        return None, False
    return model_from_row(model, row[:-1]), row[-1]


@functools.cache
def _insert_or_read_sql(model: type[models.Model], insert: str, unique_column: str) -> str:
    columns = ", ".join(columns_of(model))
    return (
        f"WITH new AS ({insert}) SELECT {columns}, true FROM new UNION ALL "
        f'(SELECT {columns}, false FROM "{model._meta.db_table}" WHERE "{unique_column}" = %s) LIMIT 1'
    )


@functools.cache
def _row_plan(model: type[models.Model]) -> tuple[list[str], list[tuple[int, Any, list]]]:
    """For model_from_row: the fields' attribute names, and which columns need database converters (few do)."""
    fields = model._meta.concrete_fields
    # Field.get_db_converters is missing from Django's stubs.
    converting = [
        (index, field, converters)
        for index, field in enumerate(fields)
        if (converters := field.get_db_converters(connection))  # type: ignore[attr-defined]
    ]
    return [field.attname for field in fields], converting


def model_from_row(model: type[M], values) -> M:
    """An instance of `model` from its concrete fields' column values, in their declared order, as the ORM
    would build it (each field's database converters applied). For the few hot statements written out as SQL
    once, where compiling the ORM's query (or a raw() queryset's column mapping) each time cost CPU."""
    attnames, converting = _row_plan(model)
    values = list(values)
    if len(values) != len(attnames):
        raise ValueError(f"{model.__name__} has {len(attnames)} columns, the row {len(values)}")
    for index, field, converters in converting:
        for convert in converters:
            values[index] = convert(values[index], field, connection)
    return model.from_db(connection.alias, attnames, values)


def fetch_model(model: type[M], statement: str, params) -> M | None:
    """The one row `statement` returns, as a `model` instance (None for no row). The statement's columns are
    columns_of(model, …), in that order: a SELECT, or an UPDATE … RETURNING them."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    return None if row is None else model_from_row(model, row)


def columns_of(model: type[models.Model], alias: str = "") -> list[str]:
    """`alias.column` (or `column`) for each concrete field of `model`, in the order model_from_row reads them."""
    prefix = f"{alias}." if alias else ""
    return [f'{prefix}"{field.column}"' for field in model._meta.concrete_fields]


def connection_hung_up(raw_connection) -> bool:
    """Whether the server has hung up on this idle psycopg connection: its socket is readable (PostgreSQL sent
    its FATAL message and closed) or already gone. One system call, no round trip. Only for a connection with no
    query in flight, where nothing else could be waiting to be read."""
    try:
        readable, _, _ = select.select([raw_connection.fileno()], [], [], 0)
    except (OSError, ValueError):  # the socket is closed already
        return True
    return bool(readable)
