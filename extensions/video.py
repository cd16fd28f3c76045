"""Video hooks: uploads are limited to 2 GB."""

from __future__ import annotations

from flowgen_runtime import WriteEvent

MAX_BYTES = 2_000_000_000


def _check_size(event: WriteEvent) -> None:
    size = (event.data or {}).get("size_bytes")
    if size is not None and size > MAX_BYTES:
        event.refuse(f"a video may be at most {MAX_BYTES:,} bytes", field="size_bytes")


async def before_create(event: WriteEvent) -> None:
    _check_size(event)


async def before_update(event: WriteEvent) -> None:
    _check_size(event)
