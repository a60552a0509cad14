"""Videos: the JSON API (``api``), their files and HLS (``files``), the HTML pages
(``pages``), a page of the library (``library``) and the JSON shapes they share
(``shapes``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # Here, not above: a module of this package imported alone (by another package, or a
    # unit test) loads only what it imports itself, not every view.
    from . import api, files, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(pages.bp)
