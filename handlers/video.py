"""Video processing. Real transcoding is out of scope for the example: the handlers record
the state changes a real pipeline would make, through the service layer, as the caller who
enqueued the job (only a video's owner, or an admin, may change it)."""

from __future__ import annotations

from typing import Any

from flowgen_runtime import JobContext, UnrecoverableJobError, app_context


async def transcode(payload: Any, ctx: JobContext) -> Any:
    """Mark the video processing, 'transcode' it, then mark it ready."""
    app = app_context(ctx)
    videos = app.registry.services["Video"]
    video = await videos.get(app, payload.video_id)
    if video is None:
        raise UnrecoverableJobError(f"video {payload.video_id} does not exist")
    await videos.update(app, video["id"], {"status": "processing"})
    await ctx.progress(50)
    await videos.update(app, video["id"], {"status": "ready"})
    return {"video_id": str(video["id"]), "target": payload.target}


async def generate_thumbnail(payload: Any, ctx: JobContext) -> Any:
    """Store a thumbnail URL for the video."""
    app = app_context(ctx)
    videos = app.registry.services["Video"]
    url = f"https://cdn.example.invalid/thumbs/{payload.video_id}-{payload.at_second}.jpg"
    await videos.update(app, str(payload.video_id), {"thumbnail_url": url})
    return {"thumbnail_url": url}
