"""A Jupyter kernel as an executor: local kernelspec, an already running kernel, or a remote one.

Three ways in (`KernelTarget`, core/config.py):
- `name`: start a local kernelspec with jupyter_client's AsyncKernelManager (ours: shut down
  on close, replaced after a kill or a restart). Its environment is the worker's: the server's
  own minus secret-looking variables (executors/worker/launch.py).
- `connection_file`: attach to a running kernel (the user's notebook kernel, data loaded) over
  ZMQ. It is never shut down, restarted or killed by us: `kill()` and `restart` only let go and
  reconnect, so the state stays. An interrupt it ignores is reported as "running". It is
  taken for gone once its heartbeat has been silent for HEARTBEAT_SILENCE_S (one missed beat
  is a loaded machine, not a death).
- `url` (+ token): a Jupyter Server or Enterprise Gateway. `POST /api/kernels` starts a kernel
  (ours: `DELETE` on close), messages go over the websocket `/api/kernels/{id}/channels`
  (tornado, which jupyter_client already depends on), interrupts over REST. The token travels
  only in the Authorization header: never in a URL, a log line or an error message.

Mapping onto the executor interface (core/executor.py): every chunk is one execute_request,
all of a batch sent at once (the kernel queues them and, with stop_on_error, aborts the rest
after an error: "aborted" replies become `skipped`). The code is padded with comment lines so
its line numbers are document lines ("Cell In[n], line L" is the editor's line L); traceback
entries are parsed into frames. stream → stdout/stderr, execute_result (and text-only
display_data) → the expression's value, `image/png` → a PNG file in the session's image dir,
bound names → `user_expressions` (repr and type). Everything is bounded by eager_lsp.limits.
jupyter_client is imported only here and only when a kernel is used (extra `kernel`).

An interrupt that lands while the kernel is between a request's code and its reply (ipykernel
logs "KeyboardInterrupt caught in kernel") ends that request with no execute_reply at all: the
kernel goes on, idle, and waiting for the reply would hold the run forever. So while an
interrupt is being resent, a `kernel_info_request` follows it on the shell channel: the shell
handles its requests in order, so its reply means every execute_request sent before it is
over; those still without a reply end as interrupted (`_reply_lost`).
"""

from __future__ import annotations

import ast
import asyncio
import base64
import contextlib
import json
import logging
import os
import re
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eager_lsp.core.executor import (
    ChunkRequest,
    EventCallback,
    ExecutorEvent,
    ExecutorLost,
    ExecutorUnavailable,
    InterruptOutcome,
    ResultEvent,
    SkippedEvent,
    WireError,
    WireFrame,
    WireImage,
    WireValue,
)
from eager_lsp.limits import LIVE_OUTPUT_S, MESSAGE_CAP, STREAM_CAP, TRACEBACK_CAP, clip_middle

if TYPE_CHECKING:
    from eager_lsp.core.interpreter import InterpreterConfig, KernelTarget

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0
LIVENESS_CHECK_S = 1.0  # while waiting for a kernel's messages, check it is still there
IMAGE_CAP = 8 * 1024 * 1024  # bytes of one PNG
REPR_CAP = 4000  # characters of a value's repr
SUMMARY_CAP = 60
INTERRUPT_RESEND_S = 0.5
ZMQ_POLL_S = 0.1
IDLE_GRACE_S = 10.0  # after an execute_reply, how long its iopub idle status may lag
HEARTBEAT_SILENCE_S = 10.0  # an attached kernel whose heartbeat is silent this long is gone
MISSING = (
    "the Jupyter kernel backend needs jupyter_client (and ipykernel for local kernels): "
    "pip install 'eager-lsp[kernel]'"
)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"^\s*Cell In\s*\[\d*\], line (\d+)(?:, in ([^\s(]+))?")
_FILE_FRAME = re.compile(r"^\s*File\s+(.+?):(\d+)(?:, in ([^\s(]+))?")
_OLD_CELL_FRAME = re.compile(r"^\s*(?:<ipython-input-[^>]*>|/tmp/ipykernel_\d+/\d+\.py)")


def available() -> str | None:
    """None when a local kernel can be started here, else why not."""
    try:
        import ipykernel  # noqa: F401
        import jupyter_client  # noqa: F401
    except ImportError as exc:
        return f"not installed: {exc.name}"
    return None


def _require_client() -> None:
    try:
        import jupyter_client  # noqa: F401
    except ImportError:
        raise ExecutorLost(MISSING)


# -- transports --------------------------------------------------------------------------------


class _Transport:
    """Messages to and from one kernel, as (channel, message) pairs on one queue."""

    owned = False
    pid: int | None = None

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()
        self.closed = False

    def send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        raise NotImplementedError

    async def interrupt(self) -> None:
        raise NotImplementedError

    async def check_alive(self) -> bool:
        return not self.closed

    async def close(self, *, destroy: bool) -> None:
        """Disconnect; with `destroy` also stop the kernel (only ever for one we started)."""
        raise NotImplementedError


class _ZmqTransport(_Transport):
    """jupyter_client's AsyncKernelClient; with `km` a kernel we started."""

    def __init__(self, kc: Any, km: Any | None) -> None:
        super().__init__()
        self._kc = kc
        self._km = km
        self.owned = km is not None
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        self.pid = getattr(proc, "pid", None)
        self._silent_since: float | None = None  # (check_alive)
        self._readers = [
            asyncio.create_task(self._read("iopub", kc.iopub_channel)),
            asyncio.create_task(self._read("shell", kc.shell_channel)),
            asyncio.create_task(self._read("control", kc.control_channel)),
        ]

    async def _read(self, name: str, channel: Any) -> None:
        from queue import Empty

        try:
            while not self.closed:
                # A bounded wait, re-polled: an unbounded zmq poll was seen to miss a wakeup
                # (shell replies sat unread while a batch waited for them).
                try:
                    msg = await channel.get_msg(timeout=ZMQ_POLL_S)
                except Empty:
                    continue
                self.queue.put_nowait((name, msg))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the socket was closed under us
            if not self.closed:
                log.debug("kernel %s channel ended: %s", name, exc)
                self.closed = True
                self.queue.put_nowait(None)

    def send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        msg = self._kc.session.msg(msg_type, content)
        getattr(self._kc, f"{channel}_channel").send(msg)
        return str(msg["header"]["msg_id"])

    async def interrupt(self) -> None:
        if self._km is not None:
            await self._km.interrupt_kernel()
        else:  # ipykernel answers interrupt_request on the control channel with a SIGINT
            self.send("control", "interrupt_request", {})

    async def check_alive(self) -> bool:
        if self.closed:
            return False
        if self._km is not None:
            return bool(await self._km.is_alive())
        hb = getattr(self._kc, "hb_channel", None)
        if hb is None or hb.is_beating():
            self._silent_since = None
            return True
        # jupyter_client calls one heartbeat missed for 1 s "not beating"; a loaded machine
        # or a stopped process does that for a moment, so only a silence that lasts is death
        now = time.monotonic()
        if self._silent_since is None:
            self._silent_since = now
        return now - self._silent_since < HEARTBEAT_SILENCE_S

    async def close(self, *, destroy: bool) -> None:
        self.closed = True
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            self._kc.stop_channels()
        if destroy and self._km is not None:
            with contextlib.suppress(Exception):
                await self._km.shutdown_kernel(now=True)


class _GatewayTransport(_Transport):
    """A kernel behind a Jupyter Server / Enterprise Gateway: REST plus one websocket."""

    def __init__(self, base: str, token: str | None, kernel_id: str, ws: Any) -> None:
        super().__init__()
        from jupyter_client.session import Session as MessageFactory

        self._base = base
        self._token = token
        self.kernel_id = kernel_id
        self.owned = True  # we created it through POST /api/kernels
        self._ws = ws
        self._factory = MessageFactory(key=b"", username="eager-lsp")
        self._reader = asyncio.create_task(self._read())

    @staticmethod
    def headers(token: str | None) -> dict[str, str]:
        return {"Authorization": f"token {token}"} if token else {}

    @classmethod
    async def request(
        cls, base: str, token: str | None, method: str, path: str, body: Any = None
    ) -> Any:
        from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

        payload = None if body is None else json.dumps(body)
        if payload is None and method == "POST":
            payload = ""
        req = HTTPRequest(
            base + path,
            method=method,
            headers={**cls.headers(token), "Content-Type": "application/json"},
            body=payload,
            request_timeout=READY_TIMEOUT_S,
        )
        try:
            response = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as exc:  # the message names the status only, not the token
            raise ExecutorLost(f"{method} {path} on {base}: HTTP {exc.code} {exc.message}")
        except OSError as exc:
            raise ExecutorLost(f"cannot reach {base}: {exc}")
        return json.loads(response.body) if response.body else None

    @classmethod
    async def open(cls, base: str, token: str | None, name: str | None) -> _GatewayTransport:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        body = {"name": name} if name else {}
        model = await cls.request(base, token, "POST", "/api/kernels", body)
        kernel_id = str(model["id"])
        ws_base = "ws" + base[len("http") :] if base.startswith("http") else base
        try:
            ws = await websocket_connect(
                HTTPRequest(
                    f"{ws_base}/api/kernels/{kernel_id}/channels",
                    headers=cls.headers(token),
                    request_timeout=READY_TIMEOUT_S,
                ),
                max_message_size=64 * 1024 * 1024,
            )
        except Exception as exc:
            with contextlib.suppress(Exception):
                await cls.request(base, token, "DELETE", f"/api/kernels/{kernel_id}")
            raise ExecutorLost(f"cannot open the kernel's websocket on {base}: {exc}")
        return cls(base, token, kernel_id, ws)

    async def _read(self) -> None:
        try:
            while True:
                raw = await self._ws.read_message()
                if raw is None:
                    break
                if isinstance(raw, bytes):
                    continue  # binary frames (buffers protocol): we never ask for them
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                self.queue.put_nowait((str(msg.get("channel", "")), msg))
        finally:
            self.closed = True
            self.queue.put_nowait(None)

    def send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        from jupyter_client.jsonutil import json_default

        msg = self._factory.msg(msg_type, content)
        wire = {
            "header": msg["header"],
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
        self._ws.write_message(json.dumps(wire, default=json_default))
        return str(msg["header"]["msg_id"])

    async def interrupt(self) -> None:
        await self.request(
            self._base, self._token, "POST", f"/api/kernels/{self.kernel_id}/interrupt"
        )

    async def close(self, *, destroy: bool) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader
        if destroy:
            with contextlib.suppress(Exception):
                await self.request(
                    self._base, self._token, "DELETE", f"/api/kernels/{self.kernel_id}"
                )


# -- the executor ------------------------------------------------------------------------------


@dataclass
class _Pending:
    request: ChunkRequest
    msg_id: str
    started_at: float | None = None
    reply: dict[str, Any] | None = None
    replied_at: float = 0.0
    idle: bool = False
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    expr: dict[str, Any] | None = None
    images: list[WireImage] = field(default_factory=list)
    error: dict[str, Any] | None = None
    live_at: float = 0.0  # when its last "output" event was sent
    ended: bool = False
    sent: int = 0  # KernelExecutor._sent when it was sent (a probe ends only earlier ones)
    kept: dict[str, int] = field(default_factory=lambda: {"stdout": 0, "stderr": 0})  # chars
    # per stream: the parts and the characters of it passed on as "output" events
    live: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {"stdout": (0, 0), "stderr": (0, 0)}
    )

    def keep(self, stream: str, text: str) -> None:
        """Add output while the stream holds less than STREAM_CAP (a count, not a sum over
        the parts each time: a loop of a million display() calls made that quadratic)."""
        if self.kept[stream] < STREAM_CAP:
            (self.stderr if stream == "stderr" else self.stdout).append(text)
            self.kept[stream] += len(text)


class KernelExecutor:
    """One Jupyter kernel behind the executor interface (core/executor.py)."""

    debug_port: int | None = None
    debug_error: str | None = "debugging is not available with a Jupyter kernel"
    parallel: None = None  # one statement at a time: a kernel has one execution queue

    def __init__(self, transport: _Transport, *, interrupt_grace_s: float = 2.0) -> None:
        self._t = transport
        self._grace = interrupt_grace_s
        self._lock = asyncio.Lock()
        self._idle = asyncio.Event()
        self._heard = time.monotonic()  # the last message read (the liveness check's clock)
        self._idle.set()
        self._dead = False
        self._lost_reason: str | None = None
        self._sent = 0  # shell requests sent: orders execute requests and probes
        self._probes: dict[str, int] = {}  # kernel_info_request msg_id → `_sent` then
        self.version = ""
        self.start_seconds = 0.0

    # -- starting ---------------------------------------------------------------------------

    @classmethod
    async def start_local(
        cls, name: str, *, cwd: str | None, env: Mapping[str, str], interrupt_grace_s: float
    ) -> KernelExecutor:
        _require_client()
        from jupyter_client.kernelspec import NoSuchKernel
        from jupyter_client.manager import AsyncKernelManager

        began = time.monotonic()
        km = AsyncKernelManager(kernel_name=name)
        try:
            # The kernel's own chatter (unencrypted-loopback warnings) is not the user's output.
            await km.start_kernel(
                cwd=cwd or os.getcwd(),
                env=dict(env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except NoSuchKernel:
            raise ExecutorLost(f"no Jupyter kernelspec named {name!r} (jupyter kernelspec list)")
        kc = km.client()
        kc.start_channels(hb=False)
        executor = cls(_ZmqTransport(kc, km), interrupt_grace_s=interrupt_grace_s)
        await executor._handshake()
        executor.start_seconds = time.monotonic() - began
        return executor

    @classmethod
    async def attach(cls, connection_file: str, *, interrupt_grace_s: float) -> KernelExecutor:
        _require_client()
        from jupyter_client.asynchronous import AsyncKernelClient

        began = time.monotonic()
        path = os.path.expanduser(connection_file)
        if not os.path.isfile(path):
            raise ExecutorLost(f"no kernel connection file at {path}")
        kc = AsyncKernelClient()
        try:
            kc.load_connection_file(path)
        except (OSError, ValueError, KeyError) as exc:
            raise ExecutorLost(f"cannot read the kernel connection file {path}: {exc}")
        kc.start_channels()
        executor = cls(_ZmqTransport(kc, None), interrupt_grace_s=interrupt_grace_s)
        await executor._handshake()
        executor.start_seconds = time.monotonic() - began
        return executor

    @classmethod
    async def remote(
        cls, url: str, token: str | None, name: str | None, *, interrupt_grace_s: float
    ) -> KernelExecutor:
        _require_client()
        began = time.monotonic()
        transport = await _GatewayTransport.open(url.rstrip("/"), token, name)
        executor = cls(transport, interrupt_grace_s=interrupt_grace_s)
        await executor._handshake()
        executor.start_seconds = time.monotonic() - began
        return executor

    async def _handshake(self) -> None:
        """kernel_info until both its reply and its iopub status arrive.

        A fresh kernel may drop the first requests, and an iopub subscription takes effect some
        time after it is made (ZeroMQ's slow joiner): until one of this request's iopub messages
        has come back, an execute's output and its idle status could be lost, and the batch
        would wait for them (jupyter_client's wait_for_ready checks the same thing)."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                msg_id = self._t.send("shell", "kernel_info_request", {})
                reply = await self._await_reply(msg_id, "shell", timeout=1.0, also_iopub=True)
                if reply is not None:
                    info = reply.get("content", {}).get("language_info", {})
                    self.version = str(info.get("version", ""))
                    return
            raise ExecutorLost(f"the kernel did not answer within {READY_TIMEOUT_S:g} s")
        except BaseException:
            await self._t.close(destroy=self._t.owned)
            self._dead = True
            raise

    async def _await_reply(
        self, msg_id: str, channel: str, timeout: float, *, also_iopub: bool = False
    ) -> dict[str, Any] | None:
        """The reply to `msg_id` on `channel` within `timeout`; with `also_iopub` only once an
        iopub message of the same request has arrived too (None if it did not in time)."""
        end = time.monotonic() + timeout
        reply: dict[str, Any] | None = None
        heard = not also_iopub
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                item = await asyncio.wait_for(self._t.queue.get(), left)
            except asyncio.TimeoutError:
                return None
            if item is None:
                raise ExecutorLost("the kernel connection closed")
            ch, msg = item
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if ch == channel:
                reply = msg
            elif ch == "iopub":
                heard = True
            if reply is not None and heard:
                return reply

    # -- the interface ----------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return not self._dead and not self._t.closed

    @property
    def pid(self) -> int | None:
        return self._t.pid

    @property
    def owned(self) -> bool:
        """We started this kernel (so we may stop it)."""
        return self._t.owned

    @property
    def may_kill(self) -> bool:
        """A kernel we started (local, or through a Jupyter server) is shut down by `kill()`;
        an attached one is only let go of."""
        return self._t.owned

    async def execute(
        self,
        batch: Sequence[ChunkRequest],
        *,
        stop_on_error: bool,
        on_event: EventCallback | None = None,
    ) -> list[ResultEvent | SkippedEvent]:
        async with self._lock:
            self._check_alive()
            self._idle.clear()
            try:
                return await self._execute(batch, stop_on_error, on_event)
            finally:
                self._probes.clear()  # they were about this batch's requests
                self._idle.set()

    async def _execute(
        self, batch: Sequence[ChunkRequest], stop_on_error: bool, on_event: EventCallback | None
    ) -> list[ResultEvent | SkippedEvent]:
        order: list[_Pending] = []
        for request in batch:
            content = {
                "code": _padded(request),
                "silent": False,
                "store_history": True,
                "user_expressions": _expressions(request.get("names", [])),
                "allow_stdin": False,
                "stop_on_error": stop_on_error,
            }
            self._sent += 1
            msg_id = self._t.send("shell", "execute_request", content)
            order.append(_Pending(request, msg_id, sent=self._sent))
        by_id = {p.msg_id: p for p in order}
        out: list[ResultEvent | SkippedEvent] = []
        callback_error: BaseException | None = None

        def emit(event: ExecutorEvent) -> None:
            nonlocal callback_error
            if on_event is not None and callback_error is None:
                try:
                    on_event(event)
                except Exception as exc:  # keep reading: the batch must be consumed
                    callback_error = exc

        while order:
            # a statement's output waiting to be passed on is looked at every LIVE_OUTPUT_S
            running = order[0].started_at is not None
            item = await self._next_message(LIVE_OUTPUT_S if running else LIVENESS_CHECK_S)
            if item is not None:
                channel, msg = item
                pending = by_id.get(msg.get("parent_header", {}).get("msg_id", ""))
                # None: another client's traffic on an attached kernel, or a late reply
                if pending is not None:
                    self._absorb(pending, channel, msg, emit)
                elif channel == "shell":
                    self._reply_lost(order, msg)
            elif _idle_overdue(order[0]):
                # The reply came but its idle status never did (lost on iopub): finish with
                # what arrived rather than hold the executor forever.
                log.warning("kernel: no idle status %g s after the reply", IDLE_GRACE_S)
                order[0].idle = True
            self._pass_on(order[0], emit)  # (only the first can be running)
            while order and _finished(order[0]):
                done = order.pop(0)
                done.ended = True  # its result is sent now: no "output" after it
                event = self._event_for(done)
                out.append(event)
                emit(event)
        if callback_error is not None:
            raise callback_error
        return out

    async def _next_message(
        self, wait: float = LIVENESS_CHECK_S
    ) -> tuple[str, dict[str, Any]] | None:
        """The next message, or None after `wait` s without one (the kernel is checked
        once LIVENESS_CHECK_S has passed without one)."""
        try:
            item = await asyncio.wait_for(self._t.queue.get(), wait)
            self._heard = time.monotonic()
        except asyncio.TimeoutError:
            if time.monotonic() - self._heard < LIVENESS_CHECK_S:
                return None
            self._heard = time.monotonic()
            if self._dead or not await self._t.check_alive():
                self._dead = True
                raise ExecutorLost(self._lost_reason or "the kernel died")
            return None
        if item is None:
            self._dead = True
            raise ExecutorLost(self._lost_reason or "the kernel connection closed")
        return item

    def _reply_lost(self, order: list[_Pending], msg: dict[str, Any]) -> None:
        """A probe's reply (see the module docstring): the requests sent before it that have
        no reply never will; they end as interrupted."""
        sent = self._probes.pop(msg.get("parent_header", {}).get("msg_id", ""), None)
        if sent is None:
            return
        for p in order:
            if p.sent < sent and p.reply is None:
                log.info("kernel: no reply to an interrupted request; it ends as interrupted")
                p.reply = {"status": "error", "ename": "KeyboardInterrupt", "evalue": ""}
                p.replied_at, p.idle = time.monotonic(), True

    def _probe(self) -> None:
        """Ask the shell for its kernel info, after every execute request sent so far."""
        self._sent += 1
        self._probes[self._t.send("shell", "kernel_info_request", {})] = self._sent

    def _absorb(self, p: _Pending, channel: str, msg: dict[str, Any], emit: EventCallback) -> None:
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        content = msg.get("content", {})
        now = time.monotonic()
        if channel == "shell" and kind == "execute_reply":
            p.reply, p.replied_at = content, now
            return
        if channel != "iopub":
            return
        if kind == "status":
            state = content.get("execution_state")
            if state == "busy" and p.started_at is None:
                p.started_at = now
                emit({"ev": "started", "id": p.request["id"], "t": now})
            elif state == "idle":
                p.idle = True
        elif kind == "stream":
            stream = "stderr" if content.get("name") == "stderr" else "stdout"
            p.keep(stream, str(content.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = content.get("data", {})
            png = data.get("image/png")
            if isinstance(png, str):
                self._save_png(p, png, "value" if kind == "execute_result" else "figure")
            elif kind == "execute_result":
                p.expr = data
            elif "text/plain" in data:
                # display() of something that is not an image: output, as a notebook shows it,
                # not the statement's value
                p.keep("stdout", _plain(data) + "\n")
        elif kind == "error":
            p.error = content

    @staticmethod
    def _pass_on(p: _Pending, emit: EventCallback) -> None:
        """The statement's new output as an "output" event, within the first STREAM_CAP
        characters a stream: as the worker sends it, once the statement has run LIVE_OUTPUT_S
        and at most every LIVE_OUTPUT_S (a loop of display() calls sent one per call)."""
        now = time.monotonic()
        if p.ended or p.started_at is None or now - max(p.started_at, p.live_at) < LIVE_OUTPUT_S:
            return  # as the worker: not for a quick statement, at most every LIVE_OUTPUT_S
        new = []
        for stream, parts in (("stdout", p.stdout), ("stderr", p.stderr)):
            done, chars = p.live[stream]
            text = "".join(parts[done:])[: STREAM_CAP - chars]
            p.live[stream] = (len(parts), chars + len(text))
            new.append(text)
        if new[0] or new[1]:
            p.live_at = now
            emit({"ev": "output", "id": p.request["id"], "stdout": new[0], "stderr": new[1]})

    def _save_png(self, p: _Pending, b64: str, label: str) -> None:
        directory = p.request.get("image_dir") or ""
        if not directory or len(b64) > IMAGE_CAP * 4 // 3 + 4:
            return
        try:
            data = base64.b64decode(b64, validate=False)
            path = os.path.join(directory, f"kernel-{uuid.uuid4().hex}.png")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except (OSError, ValueError):
            return
        n = sum(1 for i in p.images if i["label"].startswith("figure")) + 1
        name = f"figure {n}" if label == "figure" else label
        p.images.append({"path": path, "label": name, "size": len(data)})

    def _event_for(self, p: _Pending) -> ResultEvent | SkippedEvent:
        request = p.request
        reply = p.reply or {}
        status = reply.get("status")
        if status == "aborted":
            return {"ev": "skipped", "id": request["id"]}
        t_start = p.started_at or p.replied_at
        ok = status == "ok"
        error = None
        if not ok:
            error = _error(p.error or reply, request)
        values = _values(request.get("names", []), reply.get("user_expressions") or {})
        expr = _value("", p.expr) if p.expr is not None else None
        return {
            "ev": "result",
            "id": request["id"],
            "ok": ok,
            "values": values,
            "expr": expr,
            "stdout": clip_middle("".join(p.stdout), STREAM_CAP),
            "stderr": clip_middle("".join(p.stderr), STREAM_CAP),
            "error": error,
            "images": p.images,
            "t_start": t_start,
            "t_end": max(t_start, p.replied_at),
        }

    def withdraw(self, from_id: int) -> None:
        """Nothing: the kernel has every request of the batch queued (a Jupyter kernel takes
        no request back but by an interrupt, which would stop the statement running too)."""

    async def interrupt(self) -> InterruptOutcome:
        """Interrupt the running chunks; a kernel of ours that ignores it for the grace period
        is shut down ("killed": the interpreter starts a new one). An attached kernel is never
        killed: if it ignores the interrupt the answer is "running"."""
        if self._idle.is_set() or not self.alive:
            return "idle"
        deadline = time.monotonic() + self._grace
        while time.monotonic() < deadline:
            try:
                await self._t.interrupt()
            except Exception as exc:
                log.info("kernel interrupt failed: %s", exc)
            timeout = min(INTERRUPT_RESEND_S, max(0.0, deadline - time.monotonic()))
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
                return "interrupted" if self.alive else "killed"
            except asyncio.TimeoutError:
                with contextlib.suppress(Exception):
                    self._probe()  # the reply may be lost for good (module docstring)
                continue
        if not self._t.owned:
            return "running"
        self._lost_reason = f"killed: did not stop within {self._grace:g} s of an interrupt"
        await self.kill()
        return "killed"

    async def reset(self) -> None:
        """A fresh user namespace (IPython's %reset -f)."""
        async with self._lock:
            self._check_alive()
            msg_id = self._t.send(
                "shell",
                "execute_request",
                {"code": "%reset -f", "silent": True, "store_history": False},
            )
            if await self._await_reply(msg_id, "shell", timeout=READY_TIMEOUT_S) is None:
                raise ExecutorLost("the kernel did not answer a reset")

    async def debug_listen(self, timeout: float = 30.0) -> int:
        raise RuntimeError(self.debug_error or "no debugger")

    async def kill(self, reason: str | None = None) -> None:
        """Stop a kernel we started; only disconnect from one we attached to. `reason`: why,
        what an execute it cuts short fails with (core/executor.py)."""
        if self._dead and self._t.closed:
            return
        if reason is not None and not self._dead and self._lost_reason is None:
            self._lost_reason = reason
        self._dead = True
        await self._t.close(destroy=self._t.owned)
        self._t.queue.put_nowait(None)  # a waiting execute() ends with ExecutorLost

    async def shutdown(self, timeout: float = 1.0) -> None:
        await self.kill()

    def _check_alive(self) -> None:
        if not self.alive:
            raise ExecutorLost(self._lost_reason or "the kernel is not running")


def _idle_overdue(p: _Pending) -> bool:
    return p.reply is not None and not p.idle and time.monotonic() - p.replied_at > IDLE_GRACE_S


def _finished(p: _Pending) -> bool:
    if p.reply is None:
        return False
    return p.idle or p.reply.get("status") == "aborted"


def _padded(request: Mapping[str, Any]) -> str:
    """Comment lines first, so the kernel's line numbers are the document's (blank lines
    would be stripped by IPython's input cleanup)."""
    first = max(1, int(request.get("first_line", 1)))
    return "#\n" * (first - 1) + str(request.get("code", ""))


def _expressions(names: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        if name.isidentifier():
            out[name] = name
            out[f"type:{name}"] = f"type({name}).__name__"
    return out


def _plain(data: Mapping[str, Any] | None) -> str:
    if not data:
        return ""
    text = data.get("text/plain", "")
    return clip_middle(str(text), REPR_CAP)


def _value(name: str, data: Mapping[str, Any], type_name: str = "") -> WireValue:
    text = _plain(data)
    line = text.splitlines()[0] if text else ""
    summary = line if len(line) <= SUMMARY_CAP else line[: SUMMARY_CAP - 1] + "…"
    return {"name": name, "type": type_name, "repr": text, "summary": summary}


def _values(names: Sequence[str], found: Mapping[str, Any]) -> list[WireValue]:
    out = []
    for name in names:
        entry = found.get(name)
        if not isinstance(entry, Mapping) or entry.get("status") != "ok":
            continue
        type_name = ""
        t = found.get(f"type:{name}")
        if isinstance(t, Mapping) and t.get("status") == "ok":
            with contextlib.suppress(ValueError, SyntaxError):
                type_name = str(ast.literal_eval(_plain(t.get("data"))))
        out.append(_value(name, entry.get("data") or {}, type_name))
    return out


def _error(content: Mapping[str, Any], request: Mapping[str, Any]) -> WireError:
    """The kernel's error as the worker's wire ERROR: frames parsed from the traceback
    entries, innermost document frame first, its line the document line (padding)."""
    entries = [_ANSI.sub("", str(e)) for e in content.get("traceback") or []]
    path = str(request.get("path", "<stream>"))
    calls: list[WireFrame] = []
    for entry in entries:
        head = entry.lstrip("\n").splitlines()[0] if entry.strip() else ""
        m = _CELL_FRAME.match(head)
        if m:
            function = m.group(2) or "<module>"
            calls.append(_frame(path, int(m.group(1)), function, True))
            continue
        m = _FILE_FRAME.match(head)
        if m:
            calls.append(_frame(m.group(1), int(m.group(2)), m.group(3) or "", False))
    ename = str(content.get("ename", "Error"))
    evalue = str(content.get("evalue", ""))
    if ename == "SyntaxError" or not calls:
        # A SyntaxError's location is in its text: "... (<file>, line 3)" or "line 3".
        m = re.search(r"line (\d+)\)?\s*$", evalue) or next(
            (re.search(r"Cell In\s*\[\d*\], line (\d+)", e) for e in entries if "Cell In" in e),
            None,
        )
        if m and not any(f["in_document"] for f in calls):
            calls.append(_frame(path, int(m.group(1)), "<module>", True))
    frames = list(reversed(calls))
    frames.sort(key=lambda f: not f["in_document"])  # stable: innermost first in each group
    line = frames[0]["line"] if frames and frames[0]["in_document"] else None
    return {
        "type": ename,
        "message": clip_middle(evalue, MESSAGE_CAP),
        "line": line,
        "traceback": clip_middle("\n".join(entries), TRACEBACK_CAP),
        "frames": frames,
    }


def _frame(path: str, line: int, function: str, in_document: bool) -> WireFrame:
    return {"path": path, "line": line, "function": function, "in_document": in_document}


# -- the source --------------------------------------------------------------------------------


class KernelSource:
    """Hands out kernels for one target: a new local or remote kernel per acquire (after a
    loss or a restart), or a new connection to the same attached kernel (its state kept)."""

    def __init__(
        self,
        target: KernelTarget,
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        interrupt_grace_s: float = 2.0,
    ) -> None:
        self.target = target
        self._cwd = cwd
        self._env = env
        self._grace = interrupt_grace_s

    @classmethod
    def for_config(cls, config: InterpreterConfig) -> KernelSource:
        from eager_lsp.core.interpreter import KernelTarget
        from eager_lsp.executors.worker.launch import worker_env

        target = config.kernel or KernelTarget(name="python3")
        env = worker_env(None, config.env_allow, config.env_deny_patterns)
        return cls(target, cwd=config.cwd, env=env, interrupt_grace_s=config.interrupt_grace_s)

    async def acquire(self) -> KernelExecutor:
        try:
            return await self._acquire()
        except ExecutorUnavailable:
            raise
        except ExecutorLost as exc:  # no such kernel, unreachable, refused: the settings' fault
            raise ExecutorUnavailable(exc.reason) from exc

    async def _acquire(self) -> KernelExecutor:
        t = self.target
        if t.connection_file:
            return await KernelExecutor.attach(t.connection_file, interrupt_grace_s=self._grace)
        if t.url:
            return await KernelExecutor.remote(
                t.url, t.token, t.name, interrupt_grace_s=self._grace
            )
        env = self._env if self._env is not None else {}
        return await KernelExecutor.start_local(
            t.name or "python3", cwd=self._cwd, env=env, interrupt_grace_s=self._grace
        )

    def warm(self) -> None:
        """No spares: a kernel is started (or attached) when the interpreter first needs it."""

    async def close(self) -> None:
        return None
