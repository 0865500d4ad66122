"""A minimal Debug Adapter Protocol client, enough to attach to a worker's debugpy."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any


class DapClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._seq = itertools.count(1)
        self._responses: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, port: int) -> DapClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def _read(self) -> None:
        while True:
            header = await self._reader.readuntil(b"\r\n\r\n")
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(await self._reader.readexactly(length))
            if message["type"] == "response":
                future = self._responses.pop(message["request_seq"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif message["type"] == "event":
                self.events.put_nowait(message)

    def send(self, command: str, **arguments: Any) -> asyncio.Future[dict[str, Any]]:
        seq = next(self._seq)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._responses[seq] = future
        body = json.dumps(
            {"seq": seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self._writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return future

    async def request(self, command: str, **arguments: Any) -> dict[str, Any]:
        response = await asyncio.wait_for(self.send(command, **arguments), 20)
        assert response["success"], response
        return response

    async def event(self, name: str, timeout: float = 20) -> dict[str, Any]:
        while True:
            event = await asyncio.wait_for(self.events.get(), timeout)
            if event["event"] == name:
                return event

    async def close(self) -> None:
        self._task.cancel()
        self._writer.close()
