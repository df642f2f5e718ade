"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.api.router import api_router
from app.config import Settings, get_settings
from app.db import database_is_up, make_engine, make_session_factory
from app.errors import install_error_handlers
from app.idempotency import IdempotencyMiddleware
from app.middleware import RequestContextMiddleware
from app.web import (
    STATIC_DIR,
    account_pages,
    assessment_pages,
    care_pages,
    case_pages,
    draft_pages,
    front_door_pages,
    iro_pages,
    practice_pages,
    protection_pages,
    record_pages,
    returns_pages,
    team_pages,
)
from app.web.errors import install_web_error_handlers
from app.web.routes import router as web_router

API_DESCRIPTION = """Casework: case management for children's social care in England.

Every error is an RFC 9457 `application/problem+json` document with a stable `code`. Writes to a
versioned record need `If-Match` with the record's ETag; a stale version gets 412 and changes
nothing.
"""


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level)
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url, echo=settings.sql_echo)
    factory = session_factory or make_session_factory(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_engine:
            engine.dispose()

    app = FastAPI(
        title="Casework API",
        version="1",
        description=API_DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = factory
    install_error_handlers(app)
    install_web_error_handlers(app)
    # Inside the request-id middleware: its own answers (a replay, a 409) carry the headers too.
    app.add_middleware(IdempotencyMiddleware, factory=factory)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(api_router)
    # The web client: pages, and the pinned GOV.UK Frontend assets at /assets (where its
    # stylesheet expects its fonts and images) and our own files and htmx at /static.
    app.include_router(web_router)
    app.include_router(front_door_pages.router)
    app.include_router(assessment_pages.router)
    app.include_router(case_pages.router)
    app.include_router(protection_pages.router)
    app.include_router(care_pages.router)
    app.include_router(iro_pages.router)
    app.include_router(practice_pages.router)
    app.include_router(team_pages.router)
    app.include_router(record_pages.router)
    app.include_router(returns_pages.router)
    app.include_router(draft_pages.router)
    app.include_router(account_pages.router)
    app.mount("/assets", StaticFiles(directory=STATIC_DIR / "govuk"), name="govuk-assets")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/health", tags=["health"], operation_id="health", include_in_schema=True)
    def health() -> JSONResponse:
        """Liveness and database status (no authentication; reveals nothing about people)."""
        up = database_is_up(factory)
        return JSONResponse(
            {"status": "ok" if up else "unavailable", "database": "ok" if up else "unreachable"},
            status_code=200 if up else 503,
            headers=None if up else {"Retry-After": "5"},
        )

    return app
