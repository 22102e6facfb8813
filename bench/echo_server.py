"""The third reference: a pure-asyncio WebSocket echo server built on the ``websockets`` library.

It shows what one asyncio process can do with no framework around the socket: the ceiling for
the 64 KiB echo and the floor for memory per idle connection. Run by the harness as
``python -m bench.echo_server PORT``; it answers every path, like the peer's ``/ws``.
"""

import asyncio
import os
import sys

from websockets.asyncio.server import serve


async def echo(websocket):
    async for message in websocket:
        await websocket.send(message)


async def main(port):
    # max_size above the 70,000-byte figure; no compression unless a client asks (ours don't).
    async with serve(echo, "127.0.0.1", port, max_size=2**20, ping_interval=None):
        print(f"asyncio echo pid={os.getpid()} listening on 127.0.0.1:{port}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
