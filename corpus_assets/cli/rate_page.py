"""The rating page of `corpus rate serve`: a small Starlette app (the web stack Dagster's webserver brings).

One document at a time with the rubric beside it; a rating (0-5, by click or key) goes through the same
import path as `corpus rate import` (`ratings_table.import_rating`: the same validation, one append to
`quality_ratings`). Each rater gets their own queue: the seeded selection of `corpus rate export`, less
the documents they rated before, so a restarted page carries on where they stopped.

JSON API (used by the page and its browser test):
  GET  /api/next?rater=R                   -> state: rater, total, rated, skipped, doc (or null), done
  POST /api/rate {rater, doc_id, rating, note} -> state of the next document, plus `saved` (rows written)
  POST /api/skip {rater, doc_id}           -> state of the next document
  POST /api/revisit {rater}                -> the skipped documents come back
Errors are HTTP 400 with {"error": one line}.
"""
from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from typing import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from corpus_assets.core.package_data import package_path, rating_rubric
from corpus_assets.core.scoring.ratings_table import check_rater, import_rating, ratings_uri, read_ratings_table
from corpus_assets.core.scoring.sheets import EXCERPT_CHARS, SheetError, excerpt

FULL_TEXT_CHARS = 20_000  # the page shows the excerpt, and the text up to this on request
RATED, SKIPPED = "rated", "skipped"


@dataclass
class RaterQueue:
    docs: list[dict]
    status: dict[str, str] = field(default_factory=dict)  # doc_id -> rated / skipped
    rated_before: int = 0

    def current(self) -> dict | None:
        return next((doc for doc in self.docs if doc["doc_id"] not in self.status), None)

    def count(self, status: str) -> int:
        return sum(1 for value in self.status.values() if value == status)


class RatingSession:
    """Every rater's queue over one warehouse; `select(warehouse, n, strategy, seed, exclude)` picks documents."""

    def __init__(self, warehouse: str, n: int, strategy: str, seed: int, select: Callable) -> None:
        self.warehouse, self.n, self.strategy, self.seed, self.select = warehouse, n, strategy, seed, select
        self.queues: dict[str, RaterQueue] = {}
        self.lock = threading.Lock()  # one request at a time changes a queue or appends to the table

    def queue(self, rater: str) -> RaterQueue:
        if rater not in self.queues:
            table = read_ratings_table(ratings_uri(self.warehouse))
            mine = set() if table is None else set(table.filter(table["rater"] == rater)["doc_id"].to_list())
            selected = self.select(self.warehouse, self.n, self.strategy, self.seed, mine)
            self.queues[rater] = RaterQueue([_document(row) for row in selected.iter_rows(named=True)],
                                            rated_before=len(mine))
        return self.queues[rater]

    def state(self, rater: str, **extra) -> dict:
        queue = self.queue(rater)
        doc = queue.current()
        return {"rater": rater, "total": len(queue.docs), "rated": queue.count(RATED), "skipped": queue.count(SKIPPED),
                "rated_before": queue.rated_before, "doc": doc, "done": doc is None, **extra}

    def rate(self, rater: str, doc_id: str, rating, note: str) -> dict:
        queue = self.queue(rater)
        known = {doc["doc_id"] for doc in queue.docs}
        result = import_rating(ratings_uri(self.warehouse), doc_id, rating, note, rater, known)
        queue.status[doc_id] = RATED
        return self.state(rater, saved=result.appended.height)

    def skip(self, rater: str, doc_id: str) -> dict:
        queue = self.queue(rater)
        if doc_id not in {doc["doc_id"] for doc in queue.docs}:
            raise SheetError(f"unknown doc_id {doc_id}: not on this rater's page")
        queue.status.setdefault(doc_id, SKIPPED)
        return self.state(rater)

    def revisit(self, rater: str) -> dict:
        queue = self.queue(rater)
        queue.status = {doc_id: status for doc_id, status in queue.status.items() if status != SKIPPED}
        return self.state(rater)


def _document(row: dict) -> dict:
    text = row.get("text") or ""
    score = row.get("quality_score")
    return {"doc_id": row["doc_id"], "url": row.get("url") or "", "lang": row.get("lang") or "",
            "title": row.get("title") or "", "excerpt": excerpt(text, EXCERPT_CHARS),
            "text": text[:FULL_TEXT_CHARS], "n_chars": len(text),
            "quality_score": None if score is None else round(float(score), 3)}


def rubric_html() -> str:
    """The rubric rendered once (markdown-it, raw HTML off)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(rating_rubric().read_text(encoding="utf-8"))


def _error(exc: Exception) -> JSONResponse:
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return JSONResponse({"error": lines[0]}, status_code=400)


def _respond(session: RatingSession, work: Callable[[], dict]) -> JSONResponse:
    """`work()` as JSON, one request at a time; any error as one line (SheetError, or e.g. "nothing to rate")."""
    try:
        with session.lock:
            return JSONResponse(work())
    except Exception as exc:  # noqa: BLE001 - the page shows one line, never a traceback page
        return _error(exc)


async def _json_body(request: Request) -> dict:
    # JSON only: a form or text/plain POST from another site's page (no CORS preflight) is refused
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise SheetError("send the rating as application/json")
    try:
        data = await request.json()
    except ValueError:
        raise SheetError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise SheetError("the request body is not a JSON object")
    return data


def _post(session: RatingSession, action: Callable[[dict], dict]):
    """A POST endpoint: the JSON body, then `action(body)` off the event loop (Delta reads and writes)."""
    async def endpoint(request: Request) -> JSONResponse:
        try:
            data = await _json_body(request)
        except SheetError as exc:
            return _error(exc)
        return await run_in_threadpool(_respond, session, lambda: action(data))
    return endpoint


def _text(data: dict, key: str) -> str:
    return str(data.get(key) or "")


def rating_app(session: RatingSession, default_rater: str | None = None,
               allowed_hosts: list[str] | None = None) -> Starlette:
    """The page and its API; `allowed_hosts` (the Host headers served) keeps another site's page, rebound to
    this address by DNS, from reading or writing ratings."""
    page = (package_path("data", "rating_page", "index.html").read_text(encoding="utf-8")
            .replace("{{RUBRIC}}", rubric_html())
            .replace("{{DEFAULT_RATER}}", html.escape(default_rater or "", quote=True)))

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    async def next_doc(request: Request) -> JSONResponse:
        rater = request.query_params.get("rater")
        return await run_in_threadpool(_respond, session, lambda: session.state(check_rater(rater)))

    rate = _post(session, lambda d: session.rate(check_rater(d.get("rater")), _text(d, "doc_id"), d.get("rating"),
                                                 _text(d, "note")))
    skip = _post(session, lambda d: session.skip(check_rater(d.get("rater")), _text(d, "doc_id")))
    revisit = _post(session, lambda d: session.revisit(check_rater(d.get("rater"))))
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)] if allowed_hosts else []
    return Starlette(routes=[
        Route("/", index), Route("/api/next", next_doc), Route("/api/rate", rate, methods=["POST"]),
        Route("/api/skip", skip, methods=["POST"]), Route("/api/revisit", revisit, methods=["POST"]),
    ], middleware=middleware)
