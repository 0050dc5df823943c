"""The HTTP API of fabnet (FastAPI): the shared store, master data row by row, jobs,
accounts and the audit trail. `fabnet serve` runs it; `create_app` builds it.

Layers: `routes/` are thin routers that call `fabnet.services`; `deps` signs requests
in and checks roles; `policy` says who may do what; `errors` turns fabnet's errors into
HTTP answers; `middleware` logs, limits bodies and makes POSTs idempotent.
"""

from fabnet.api.app import create_app
from fabnet.api.settings import Settings

__all__ = ["Settings", "create_app"]
