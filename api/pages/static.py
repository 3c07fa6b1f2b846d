"""The pages' static files: `/static/` (api/static: the stylesheet) and `/static/fonts/` (the Noto Sans Thai web font,
served from the engine's bundled fonts, engine/documents/fonts, so the PDFs and the pages use the same files).

Pages link them through `rendering.static_url`, which adds the file's content hash (`?v=`): such a URL never
changes content, so it is cached for a year (`immutable`); without `?v=` for an hour.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from bizportal.api.pages.rendering import STATIC_DIR
from bizportal.engine.documents.typefaces import FONT_DIR

LONG = "public, max-age=31536000, immutable"
SHORT = "public, max-age=3600"


class CachedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["Cache-Control"] = LONG if versioned else SHORT
        return response


class FontFiles(CachedStaticFiles):
    """Only the web fonts of the font folder (not its README)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not path.startswith("NotoSansThai-") or not path.endswith(".ttf") or os.sep in path:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return await super().get_response(path, scope)


def install(app: FastAPI) -> None:
    # follow_symlink: the strict editable install (Makefile) serves the package through links to the source tree.
    app.mount("/static/fonts", FontFiles(directory=FONT_DIR, follow_symlink=True), name="fonts")
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR, follow_symlink=True), name="static")
