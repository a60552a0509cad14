"""The HTML pages."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (load balancers and `make run` poll this)."""
    return {"status": "ok"}
