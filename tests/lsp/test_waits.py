"""lsp/waits.py: bounded waits that never cancel what they wait for, and answers moved to the
loop at once when they are set on the loop's own thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

from eager_lsp.lsp.waits import Wake, on_loop, wait_done


async def test_a_timed_out_wait_leaves_the_future_pending_and_its_callbacks_clean() -> None:
    fut = asyncio.get_running_loop().create_future()
    assert await wait_done(fut, 0.01) is False
    assert not fut.done() and not fut.cancelled()
    fut.set_result(1)
    assert await wait_done(fut, 0.01) is True


async def test_a_cancelled_waiter_leaves_the_future_alone() -> None:
    fut = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(wait_done(fut, 10))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert not fut.cancelled()


async def test_wake() -> None:
    wake = Wake()
    assert await wake.wait(0.01) is False
    asyncio.get_running_loop().call_later(0.01, wake.set)
    assert await wake.wait(5) is True
    wake.clear()
    assert not wake.is_set()


async def test_an_answer_set_on_the_loop_thread_is_there_at_once() -> None:
    answer: concurrent.futures.Future[int] = concurrent.futures.Future()
    out = on_loop(answer)
    answer.set_result(5)
    assert out.done() and out.result() == 5  # no hop through the loop's self-pipe


async def test_an_answer_set_on_another_thread_still_arrives() -> None:
    answer: concurrent.futures.Future[int] = concurrent.futures.Future()
    failed: concurrent.futures.Future[int] = concurrent.futures.Future()
    out, out_failed = on_loop(answer), on_loop(failed)
    threading.Thread(
        target=lambda: (answer.set_result(7), failed.set_exception(KeyError("k")))
    ).start()
    assert await asyncio.wait_for(out, 5) == 7
    try:
        await asyncio.wait_for(out_failed, 5)
    except KeyError:
        pass
    else:
        raise AssertionError("the failure was not passed on")
