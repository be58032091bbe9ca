"""python3 -m localcloud --port N [--profile fast|realistic] [--instances namespace|vm|none]
   --state-dir DIR [--seed-dir DIR]

Serves the local cloud on http://127.0.0.1:PORT until SIGTERM/SIGINT, then stops every
instance and removes the state directory. scripts/localcloud is the usual way in.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from .cloud import LocalCloud
from .profiles import profile_named


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcloud")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--instances", default="namespace", choices=["namespace", "vm", "none"])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--seed-dir", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    endpoint = f"http://127.0.0.1:{args.port}"
    args.state_dir.mkdir(parents=True, exist_ok=True)
    cloud = LocalCloud(args.state_dir, args.seed_dir, profile_named(args.profile),
                       None if args.instances == "none" else args.instances, endpoint)
    cloud.ensure_region("us-east-1")
    server = make_server("127.0.0.1", args.port, cloud, threaded=True, request_handler=_Handler)
    cloud.gateway.attach_server(server)   # it also serves the connections made inside instances

    def stop(signum, frame) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.info("localcloud serving %s (profile %s, instances %s)", endpoint, args.profile, args.instances)
    try:
        server.serve_forever()
    finally:
        cloud.close()
        logging.info("localcloud stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
