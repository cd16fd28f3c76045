"""What ``gen build`` and ``gen dev`` print when a build is refused, in one place so both
say the same thing: spec errors at ``file:line``, changes that lose data, changes that
cannot be migrated automatically, an internal render error."""

from __future__ import annotations

BUILD_ALLOW = "rebuild with --allow-destructive to write the migration anyway."


def build_refusal(exc: BaseException, *, allow: str = BUILD_ALLOW) -> tuple[str, int] | None:
    """``(message, exit status)`` for a build failure users should read as such; None for
    anything else (a bug: let its traceback show). ``allow`` says how to accept data loss."""
    from .migrations import DestructiveChange, UnsupportedChange
    from .render import RenderError
    from .spec import SpecErrors

    if isinstance(exc, SpecErrors):
        return exc.report(), 1
    if isinstance(exc, DestructiveChange):
        lines = "\n".join(f"  - {line}" for line in str(exc).splitlines())
        return f"migration: these changes lose data:\n{lines}\nnothing was written; {allow}", 1
    if isinstance(exc, UnsupportedChange):
        return (
            f"migration: cannot migrate these changes automatically:\n{exc}\nnothing was written.",
            1,
        )
    if isinstance(exc, RenderError):
        return f"internal render error: {exc}\nnothing was written.", 2
    return None
