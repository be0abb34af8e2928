"""``python -m hwasim [host] [port]``: run the simulator on its own."""

import sys

import uvicorn

from . import SimConfig, banner, create_app, plan_for

if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 31115
    config = SimConfig()
    plan = plan_for(config)
    print(banner(host, port, config, plan), flush=True)
    uvicorn.run(create_app(config, plan), host=host, port=port, log_level="warning")
