"""sqlite: courses never reuses the ids of deleted rows and 4 more change(s)

Written once by flowgen 0.1.0 (`gen build`); from now on this file is yours to edit.

Changes:
- sqlite: courses never reuses the ids of deleted rows
- sqlite: users never reuses the ids of deleted rows
- sqlite: exams never reuses the ids of deleted rows
- sqlite: questions never reuses the ids of deleted rows
- sqlite: submissions never reuses the ids of deleted rows
"""

from collections.abc import Sequence

from flowgen_runtime import migrate as fg

revision: str = "0005_3654bb433e"
down_revision: str | None = "0004_95d99749ce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    fg.sqlite_autoincrement("courses", True)
    fg.sqlite_autoincrement("users", True)
    fg.sqlite_autoincrement("exams", True)
    fg.sqlite_autoincrement("questions", True)
    fg.sqlite_autoincrement("submissions", True)


def downgrade() -> None:
    fg.sqlite_autoincrement("submissions", False)
    fg.sqlite_autoincrement("questions", False)
    fg.sqlite_autoincrement("exams", False)
    fg.sqlite_autoincrement("users", False)
    fg.sqlite_autoincrement("courses", False)
