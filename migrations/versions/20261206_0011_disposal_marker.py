"""Retention: the disposal job's narrow pass through the append-only audit triggers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

Destroying a child's record at the end of its retention period (rules 39 and 40) must destroy the
audit rows about the child too: they hold personal data. Migration 0002's triggers refuse every
DELETE. From here on they refuse every UPDATE as before, and every DELETE except of a row about an
id in ``disposal_marker`` (``case_event`` by child or case, ``access_log`` by person or case,
``change_log`` by entity). Only the disposal job writes that table, and it empties it again in the
same transaction, so outside a disposal the audit tables are as immovable as before. TRUNCATE stays
refused on PostgreSQL. The trigger names do not change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("case_event", "change_log", "access_log")
# The columns of each audit table that name the person or the row its entry is about.
ABOUT = {
    "case_event": ("child_id", "case_id"),
    "change_log": ("entity_id",),
    "access_log": ("person_id", "case_id"),
}


def _marked(table: str) -> str:
    columns = ", ".join(f"OLD.{c}" for c in ABOUT[table])
    # Built from the constants above, never from input.
    return f"EXISTS (SELECT 1 FROM disposal_marker WHERE entity_id IN ({columns}))"  # noqa: S608


def upgrade() -> None:
    op.create_table(
        "disposal_marker",
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_disposal_marker")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Nested IFs: PL/pgSQL resolves OLD.<column> only when the statement runs, and each table
        # has its own columns.
        branches = "\n".join(
            f"""
                {"IF" if i == 0 else "ELSIF"} TG_TABLE_NAME = '{table}' THEN
                    IF {_marked(table)} THEN
                        RETURN OLD;
                    END IF;"""
            for i, table in enumerate(TABLES)
        )
        op.execute(
            f"""
            CREATE FUNCTION casework_guard_audit_row() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    {branches}
                    END IF;
                END IF;
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION casework_guard_audit_row()"
            )
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_no_delete")
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"WHEN NOT {_marked(table)} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION casework_refuse_change()"
            )
        op.execute("DROP FUNCTION IF EXISTS casework_guard_audit_row()")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
            )
    op.drop_table("disposal_marker")
