"""Videos: the JSON API (``api``), their files and HLS (``files``), the HTML pages
(``pages``), a page of the library (``library``) and the JSON shapes they share
(``shapes``)."""

from __future__ import annotations

from flask import Flask

from . import api, files, pages


def init_app(app: Flask) -> None:
    app.register_blueprint(api.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(pages.bp)
