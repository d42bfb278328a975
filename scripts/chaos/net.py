"""Network pieces the scenarios cut and watch: a TCP proxy, an SMTP sink, event sockets."""

import asyncio
import json
import threading

import aiohttp
from aiosmtpd.controller import Controller

from .harness import free_port


class Proxy:
    """TCP proxy in front of Postgres. `refuse()` stops listening and drops every connection (a
    crashed server); `blackhole()` accepts and holds connections without forwarding a byte (a cut
    network); `forward()` heals, dropping what was held so clients reconnect cleanly."""

    def __init__(self, upstream_host, upstream_port):
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.mode = "forward"
        self.server = None
        self.writers = set()
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.healed = asyncio.Event()

    async def start(self):
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def close(self):
        self._drop_all()
        if self.server:
            self.server.close()

    def _drop_all(self):
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def refuse(self):
        self.mode = "refuse"
        self.server.close()
        self.server = None
        self._drop_all()

    async def blackhole(self):
        self.mode = "blackhole"
        self.flowing.clear()
        self.healed.clear()
        if self.server is None:
            self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def forward(self):
        self.mode = "forward"
        self._drop_all()
        self.healed.set()
        self.flowing.set()
        if self.server is None:
            self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader, writer):
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            writer.transport.abort()  # the harness is ending; nothing to report

    async def _serve(self, reader, writer):
        self.writers.add(writer)
        if self.mode != "forward":
            await self.healed.wait()
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()
                if writer.transport.is_closing():
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()


class SmtpSink:
    """Accepts every message on a fixed port while running; records recipients and subjects."""

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self.lock:
            self.messages.append(list(envelope.rcpt_tos))
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def count_to(self, recipient):
        with self.lock:
            return sum(recipient in rcpts for rcpts in self.messages)


async def open_events(http, base, token):
    """An event socket authenticated through the subprotocol; returns it after its `ready` frame."""
    url = base.replace("http://", "ws://") + "/api/v1/events"
    socket = await http.ws_connect(url, protocols=("warren.v1", f"warren.bearer.{token}"))
    frame = await next_frame(socket)
    if frame.get("type") != "ready":
        raise RuntimeError(f"first frame was {frame}")
    return socket


async def next_frame(socket, timeout=5.0):
    message = await socket.receive(timeout=timeout)
    if message.type != aiohttp.WSMsgType.TEXT:
        raise RuntimeError(f"expected a text frame, got {message.type} {message.data}")
    return json.loads(message.data)


async def close_code(socket, timeout=5.0):
    """Reads until the server closes the socket; returns (close code, frame types seen before)."""
    seen = []
    while True:
        message = await socket.receive(timeout=timeout)
        if message.type == aiohttp.WSMsgType.TEXT:
            seen.append(json.loads(message.data).get("type"))
            continue
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            return socket.close_code if message.data is None else message.data, seen
        return message.type, seen
