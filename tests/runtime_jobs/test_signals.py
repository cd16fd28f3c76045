"""SIGTERM in a real worker process: the active job finishes, then the process exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from flowgen_runtime.jobs import JobQueues

from . import sample_handlers
from .sample_handlers import queue_def
from .support import wait_for_state

WORKER_SCRIPT = """
import asyncio, logging, sys
from flowgen_runtime.jobs import WorkerGroup
from {module} import queue_def

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
asyncio.run(WorkerGroup([queue_def({queue!r})], {url!r}, prefix={prefix!r}).run())
print("worker exited cleanly")
"""


def _pythonpath() -> str:
    """Directories that make both ``flowgen_runtime`` and the handler module importable."""
    module_root = Path(sample_handlers.__file__).resolve().parents[HERE_DEPTH]
    repo_root = Path(__file__).resolve().parents[2]
    return os.pathsep.join([str(module_root), str(repo_root)])


HERE_DEPTH = sample_handlers.HERE.count(".")


async def test_sigterm_finishes_the_active_job_then_exits(
    queues: JobQueues, redis_url: str, prefix: str
) -> None:
    qdef = queue_def("signalled")
    code = WORKER_SCRIPT.format(
        module=sample_handlers.HERE, queue=qdef.name, url=redis_url, prefix=prefix
    )
    env = {**os.environ, "PYTHONPATH": _pythonpath()}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        ref = await queues.enqueue(qdef, "sleep", {"seconds": 1.0}, request_id="req-sig")
        await wait_for_state(queues, qdef.name, ref["id"], {"active"}, timeout=15)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = stderr.decode()
    assert proc.returncode == 0, log
    assert stdout.decode().strip() == "worker exited cleanly"
    assert "received SIGTERM, finishing active jobs" in log
    status = await wait_for_state(queues, qdef.name, ref["id"], {"completed"}, timeout=1)
    assert status["result"] == {"slept": 1.0}
