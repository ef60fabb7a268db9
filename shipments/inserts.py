"""New rows that belong together, written in one statement on PostgreSQL.

A request that must leave several rows (a shopper's resync: the job and its audit row) would
otherwise cost four round trips on PostgreSQL: BEGIN, one INSERT per row, COMMIT. Here they are
one statement: every row but the last is an INSERT in a `WITH` clause, the last one is the
statement itself. A statement is atomic on its own, and the foreign keys between the rows hold
(PostgreSQL checks them once the statement is done; Django makes them deferrable too), so the
rows are written together or not at all, inside a transaction or outside one.

What the ORM would do and this does too: defaults, `auto_now_add`, the database's own values
for each field type, and the last row's auto-increment id read back. What it does not do: send
`pre_save`/`post_save` signals (none of the models written here has receivers); and it takes
only plain values of models with a table of their own. A field whose value is an expression, a
model that inherits another's table, or a row other than the last without its primary key falls
back to the ORM inside one transaction, as does every other database.
"""

from __future__ import annotations

from django.db import connections, router, transaction
from django.db.models import Model


def _plain_row(obj: Model, connection) -> tuple[str, list[object], bool] | None:
    """(INSERT statement, parameters, whether the id comes back) for one new row, or None when
    a value is an expression the ORM must compile (or the model inherits a table: one row would
    be two)."""
    meta = obj._meta
    if meta.parents:
        return None
    fields = [
        field
        for field in meta.local_concrete_fields
        if not getattr(field, "generated", False)
        and not (field is meta.auto_field and obj.pk is None)
    ]
    values = []
    for field in fields:
        value = field.pre_save(obj, add=True)
        if hasattr(value, "resolve_expression"):
            return None
        values.append(field.get_db_prep_save(value, connection))
    sql = insert_statement(meta.db_table, [field.column for field in fields], connection)
    return sql, values, obj.pk is None


def insert_statement(table: str, columns: list[str], connection) -> str:
    """`INSERT INTO table (columns) VALUES (%s, …)`: names from a model's metadata, quoted;
    every value a parameter."""
    quote = connection.ops.quote_name
    return "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(table), ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
    )


def _saved(obj: Model, using: str) -> None:
    obj._state.adding = False
    obj._state.db = using


def insert_together(*objs: Model) -> None:
    """Insert these new model instances as one atomic write (one statement on PostgreSQL).

    Order them as their foreign keys need: a row refers only to rows before it. Every row but
    the last must carry its primary key (e.g. a UUID made in Python); the last one's
    auto-increment id is set on it after the write.
    """
    if not objs:
        return
    using = router.db_for_write(type(objs[0]))
    connection = connections[using]
    one_statement = connection.vendor == "postgresql"
    rows = [_plain_row(obj, connection) for obj in objs] if one_statement else []
    if not rows or any(row is None for row in rows) or any(row[2] for row in rows[:-1]):
        with transaction.atomic(using=using):
            for obj in objs:
                obj.save(force_insert=True, using=using)
        return
    *leading, (last_sql, last_params, wants_id) = rows
    ctes = ", ".join(f"row_{index} AS ({sql})" for index, (sql, _, _) in enumerate(leading))
    params = [value for _, values, _ in leading for value in values] + last_params
    last = objs[-1]
    if wants_id:
        last_sql += f" RETURNING {connection.ops.quote_name(last._meta.pk.column)}"
    sql = f"WITH {ctes} {last_sql}" if ctes else last_sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if wants_id:
            last.pk = cursor.fetchone()[0]
    for obj in objs:
        _saved(obj, using)
