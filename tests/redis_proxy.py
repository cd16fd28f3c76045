"""A TCP proxy in front of the real Redis that cuts its first connection mid-answer: a
lost connection, provoked for real, for the retry tests."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlparse


async def cutting_proxy(redis_url: str, *, passed: int) -> tuple[asyncio.Server, int]:
    """Start the proxy; returns it and its port. Its first connection passes the client's
    handshake answers (``+OK``...) and ``passed`` integer answers, then is cut once the
    next integer answer arrives (the commands sent have run in Redis; their answers are
    lost). Later connections just pass."""
    target = urlparse(redis_url)
    connections = 0

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def cut(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        redis_r, redis_w = await asyncio.open_connection(target.hostname, target.port or 6379)
        upstream = asyncio.ensure_future(pipe(client_r, redis_w))
        integers = 0
        while True:
            line = await redis_r.readline()
            integers += line.startswith(b":")
            if integers > passed:
                break
            client_w.write(line)
        await client_w.drain()
        await asyncio.sleep(0.05)  # what else the client sent has run in Redis by now
        upstream.cancel()
        client_w.close()
        redis_w.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            await cut(client_r, client_w)
            return
        redis_r, redis_w = await asyncio.open_connection(target.hostname, target.port or 6379)
        with contextlib.suppress(asyncio.CancelledError):  # closed with the test's loop
            await asyncio.gather(pipe(client_r, redis_w), pipe(redis_r, client_w))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]
