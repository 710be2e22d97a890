"""The node's HTTP API on 127.0.0.1: status, metrics, and operator actions (exit).

`GET /status` (JSON: identity, slot, validators, peers, recent duty outcomes),
`GET /metrics` (Prometheus text), `POST /exit` (`{"pubkey": "0x…", "epoch": n}`: sign this
node's share of a voluntary exit and wait for the cluster's threshold signature), and the
Web3Signer-compatible remote-signing routes (`remotesigner.py`).
Metrics are also served alone on the metrics port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from nektar.stinger.node import StingerNode

NODE: web.AppKey[StingerNode] = web.AppKey("node")


async def status(request: web.Request) -> web.Response:
    return web.json_response(request.app[NODE].status())


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[NODE].metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def exit_validator(request: web.Request) -> web.Response:
    node = request.app[NODE]
    try:
        body = await request.json()
        pubkey = bytes.fromhex(str(body["pubkey"]).removeprefix("0x"))
        epoch = body.get("epoch")
        epoch = None if epoch is None else int(epoch)
        timeout = float(body.get("timeout", 60))
    except (ValueError, KeyError, TypeError) as exc:
        return web.json_response({"error": f"bad request: {exc}"}, status=400)
    try:
        submitted, used_epoch = await node.exit(pubkey, epoch, timeout)
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"submitted": submitted, "epoch": used_epoch})


def status_app(node: StingerNode) -> web.Application:
    app = web.Application()
    app[NODE] = node
    app.router.add_get("/status", status)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/exit", exit_validator)
    if node.remote_signer is not None:
        node.remote_signer.add_routes(app)
    return app


def metrics_app(node: StingerNode) -> web.Application:
    app = web.Application()
    app[NODE] = node
    app.router.add_get("/metrics", metrics)
    return app


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start `app` on (host, port); returns the runner and the bound port."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, runner.addresses[0][1]
