"""The Beacon API server (aiohttp) in front of a `BeaconNode` (see docs/beacon-api.md)."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from nektar.beacon.chain.interface import BeaconNode
from nektar.beacon.server import beacon_routes, validator_routes
from nektar.beacon.server.beacon_routes import NODE_KEY
from nektar.beacon.server.events import STREAMS_KEY, close_streams, events
from nektar.beacon.server.http import (
    ACCEPTED_KEY,
    SUBMIT_POOL_KEY,
    AcceptedItems,
    ApiError,
    accept_middleware,
    error_middleware,
)


def create_app(node: BeaconNode, middlewares: Iterable[web.middleware] = ()) -> web.Application:
    """An aiohttp application serving `node`; extra middlewares (e.g. request capture) run
    outside the error middleware, so they see the final error responses too."""
    app = web.Application(middlewares=[*middlewares, error_middleware, accept_middleware])
    app[NODE_KEY] = node
    app[STREAMS_KEY] = weakref.WeakSet()
    app[ACCEPTED_KEY] = AcceptedItems()
    app[SUBMIT_POOL_KEY] = ThreadPoolExecutor(1, thread_name_prefix="beacon-submit")
    beacon_routes.add_routes(app)
    validator_routes.add_routes(app)
    app.router.add_get("/eth/v1/events", events)
    app.on_shutdown.append(close_streams)
    app.on_cleanup.append(_stop_submit_pool)
    return app


async def _stop_submit_pool(app: web.Application) -> None:
    app[SUBMIT_POOL_KEY].shutdown(wait=False, cancel_futures=True)


class BeaconAPIServer:
    """Runs `create_app(node)` on a loopback port inside the caller's event loop."""

    def __init__(
        self,
        node: BeaconNode,
        host: str = "127.0.0.1",
        port: int = 0,
        middlewares: Iterable[web.middleware] = (),
    ) -> None:
        self.app = create_app(node, middlewares)
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Start listening; returns the base URL (with the port chosen when port=0)."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BeaconAPIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


__all__ = ["ApiError", "BeaconAPIServer", "create_app"]
