"""The ceiling of bench/graphql_bench.py: bare Starlette returning one Redis GET.

``python bench/ceiling.py`` serves ``POST /graphql`` on ``$PORT`` (uvicorn, like the
generated server); the response is the bytes stored at ``$CEILING_KEY`` in ``$REDIS_URL``.
"""

import os

import redis.asyncio as redis
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

client = redis.from_url(os.environ["REDIS_URL"])
KEY = os.environ["CEILING_KEY"]


async def graphql(request: Request) -> Response:
    await request.body()
    return Response(await client.get(KEY), media_type="application/json")


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])

if __name__ == "__main__":
    workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    target = "ceiling:app" if workers > 1 else app
    uvicorn.run(
        target,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        workers=workers,
        log_level="warning",
        app_dir=os.path.dirname(os.path.abspath(__file__)),
    )
