"""``python -m loadtests.platform_api --db PATH [--host 127.0.0.1] [--port 0] [--port-file PATH] [fault flags]``;
``--help`` lists every flag."""

from gevent import monkey

monkey.patch_all()  # before anything else imports socket, ssl or threading

import os  # noqa: E402
import sys  # noqa: E402

from loadtests.platform_api.config import parse_config  # noqa: E402
from loadtests.platform_api.serve import serve  # noqa: E402

if __name__ == "__main__":
    sys.exit(serve(parse_config(None, os.environ)))
