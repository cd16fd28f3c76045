"""The worker's log stream: lines of one loop iteration in one write, nothing lost."""

from __future__ import annotations

import asyncio
import io
import logging
import threading

from flowgen_runtime.core.logging import configure_logging
from flowgen_runtime.jobs.logstream import CoalescingStream


async def test_lines_of_one_iteration_go_out_in_one_write_in_order() -> None:
    target = io.StringIO()
    stream = CoalescingStream(target)
    for i in range(100):
        stream.write(f"line {i}\n")
        stream.flush()  # what logging.StreamHandler does after every record
    assert target.getvalue() == ""  # kept until the iteration ends
    await asyncio.sleep(0)
    assert target.getvalue() == "".join(f"line {i}\n" for i in range(100))
    assert stream.writes == 1


def test_outside_a_loop_lines_are_written_at_once() -> None:
    target = io.StringIO()
    stream = CoalescingStream(target)
    stream.write("a\n")
    assert target.getvalue() == "a\n"
    done = threading.Event()

    def other_thread() -> None:
        stream.write("b\n")
        done.set()

    threading.Thread(target=other_thread).start()
    assert done.wait(5)
    assert target.getvalue() == "a\nb\n"


async def test_close_writes_what_is_kept_and_logging_uses_it() -> None:
    target = io.StringIO()
    stream = CoalescingStream(target)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("INFO", "json", stream=stream)  # type: ignore[arg-type]
    try:
        log = logging.getLogger("flowgen.jobs")
        log.info("first")
        log.info("second")
        assert target.getvalue() == ""
        stream.close()  # e.g. the loop stopped before its next iteration
        lines = target.getvalue().splitlines()
        assert [line.split('"msg":"')[1].split('"')[0] for line in lines] == ["first", "second"]
        log.info("third")  # a later iteration still drains on its own
        await asyncio.sleep(0)
        assert '"msg":"third"' in target.getvalue()
    finally:  # leave the root logger as pytest set it up
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)
