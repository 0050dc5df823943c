"""Is the server up? Public, for load balancers and the e2e test's wait."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The server answers."""

    status: str


@router.get("/health", response_model=Health)
def health() -> Health:
    """`{"status": "ok"}` while the server runs. Public: no token needed."""
    return Health(status="ok")
