"""The dashboard's security contract, one set of checks for every place it is mounted.

The dashboard (:mod:`asynq.web`) is served standalone, inside Django's admin, as a FastAPI
router and as a Flask blueprint. Each host authenticates its own way, but what a user relies on
is the same everywhere; :data:`CHECKS` says it once, in real headless Chromium plus plain HTTP
through the browser context (same cookies, same headers):

- strangers get nothing (pages, JSON API, static files, progress endpoint, metrics);
- readers see no action controls and every mutation route refuses them, Redis unchanged;
- every mutation needs the CSRF token: missing or wrong tokens and a cross-origin form post
  are refused, while the same request with the page's token succeeds (so the refusals mean
  something);
- names, payloads, results, errors and headers full of markup render as text: nothing runs,
  no element of the payloads appears in the DOM;
- no secret (Redis password, API token, ``SECRET_KEY``, session cookies) is in any response;
- the security headers are on every response.

A host describes itself with a :class:`Mount`; its test module calls ``CHECKS[name](...)``.
This module imports neither Django, FastAPI nor Flask, so the Django adapter's own virtualenvs
import it too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import redis
from playwright.sync_api import APIResponse, Browser, BrowserContext, Page

import asynq
from asynq._base import keys
from asynq._dashboard.data import TASK_ACTIONS
from tests.helpers import seed
from tests.web._seed import Seeded, seed_everything

#: The queue of the ordinary tasks the permission and CSRF checks act on.
QUEUE = "sec"
#: A global the XSS payloads set if any of them ever runs.
SENTINEL = "__asynq_xss"
_RUN = f"window.{SENTINEL}=1"
#: Markup that must stay text: each piece would leave an element with an ``xss-`` id (or run
#: :data:`SENTINEL`) if a template forgot to escape it.
CORPUS = (
    f"<script>{_RUN}</script>",
    f'"><img id=xss-img src=x onerror="{_RUN}">',
    f"'><svg id=xss-svg onload={_RUN}>",
    f"javascript:{_RUN}",
    "{{7*7}}{% raw %}${7*7}<%= 7*7 %>",
    "\u202e<b id=xss-bidi>gnp.exe</b>\u200b\uff1cscript\uff1e",
)
XSS_TEXT = "".join(CORPUS)
#: A queue name holds no slash (one URL path segment) and no brace (a Redis hash tag).
XSS_QUEUE = f'q"><svg id=xss-queue onload={_RUN}>[[7*7]]<%=7*7%>'
XSS_GROUP = f"g<img id=xss-group src=x onerror={_RUN}>"
XSS_HOST = f"h<svg id=xss-host onload={_RUN}>"


@dataclass
class Mount:
    """One host serving the dashboard, as the checks need to know it.

    Attributes:
        name: For messages ("standalone", "django-admin"...).
        origin: ``http://127.0.0.1:port`` of the running server.
        prefix: Path of the dashboard's root inside the host, without the trailing slash.
        login: ``login(context, role)`` makes the browser context a ``"reader"`` or a
            ``"writer"`` of the dashboard, the host's own way (cookie, header, login form).
        r: The Redis the dashboard reads.
        secrets: Strings that must never appear in a response (passwords, tokens, keys).
        also_protected: Other paths of the host that serve dashboard data (``/metrics``...).
    """

    name: str
    origin: str
    prefix: str
    login: Callable[[BrowserContext, str], None]
    r: redis.Redis
    secrets: tuple[str, ...] = ()
    also_protected: tuple[str, ...] = ()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` inside the dashboard."""
        return self.origin + self.prefix + path


@dataclass
class Corpus:
    """What :func:`seed_corpus` wrote: ordinary tasks in :data:`QUEUE`, markup in the rest."""

    plain: Seeded
    xss_ids: dict[str, str] = field(default_factory=dict)
    entry_id: str = ""


def seg(value: str) -> str:
    """``value`` as one dashboard path segment (quoted twice, as the dashboard's links are)."""
    return quote(quote(value, safe=""), safe="")


def seed_corpus(r: redis.Redis, redis_url: str) -> Corpus:
    """Ordinary tasks in every state of :data:`QUEUE`, and :data:`CORPUS` in every field the
    dashboard shows: queue, task type, payload, result, error, headers, group, server host,
    scheduler entry. Written by the real client where it can, in Go's layout otherwise."""
    out = Corpus(plain=seed_everything(r, redis_url, queue=QUEUE))
    now = int(time.time())
    with asynq.Client(redis_url) as client:
        pending = client.enqueue(asynq.Task(XSS_TEXT, XSS_TEXT.encode()), queue=XSS_QUEUE)
        out.xss_ids["pending"] = pending.id
        grouped = asynq.Task(XSS_TEXT, b"grouped")
        out.xss_ids["aggregating"] = client.add_to_group(grouped, XSS_GROUP, queue=XSS_QUEUE).id
    common: dict[str, Any] = {"queue": XSS_QUEUE, "headers": {XSS_TEXT: XSS_TEXT}}
    out.xss_ids["retry"] = seed.retry(
        r,
        seed.message(
            XSS_TEXT, XSS_TEXT.encode(), retried=1, error_msg=XSS_TEXT, last_failed_at=now, **common
        ),
        retry_at=now + 600,
    )
    out.xss_ids["archived"] = seed.archived(
        r,
        seed.message(
            XSS_TEXT, b"\xff" + XSS_TEXT.encode(), error_msg=XSS_TEXT, last_failed_at=now, **common
        ),
        archived_at=now,
    )
    out.xss_ids["completed"] = seed.completed(
        r,
        seed.message(XSS_TEXT, b"{}", retention=3600, completed_at=now, **common),
        result=XSS_TEXT.encode(),
    )
    active = seed.message(XSS_TEXT, XSS_TEXT.encode(), **common)
    out.xss_ids["active"] = seed.active(r, active, lease_until=now + 30)
    info = seed.server_info(host=XSS_HOST, pid=7, queues={XSS_QUEUE: 1}, active_workers=1)
    seed.server(
        r,
        info,
        [seed.worker_info(info, active, started=now - 3, deadline=now + 60)],
        expires_at=now + 60,
    )
    entry = seed.scheduler_entry(
        spec=XSS_TEXT,
        task_type=XSS_TEXT,
        payload=XSS_TEXT.encode(),
        options=[XSS_TEXT],
        next_unix=now + 60,
        prev_unix=now - 60,
    )
    seed.scheduler(r, f"sched-{XSS_HOST}", [entry], expires_at=now + 60)
    out.entry_id = entry.id
    # Servers and schedulers live a minute; a slow run must not see them expire mid-check
    # (the checks compare the whole database before and after).
    for key in r.scan_iter(count=1000):
        r.persist(key)
    return out


# --- observing ---------------------------------------------------------------------------


def snapshot(r: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key of the database with its serialized value: equal snapshots, nothing changed."""
    return {key: r.dump(key) for key in sorted(r.scan_iter(count=1000))}


def changed(before: dict[bytes, bytes | None], r: redis.Redis) -> list[bytes]:
    """The keys that differ from ``before`` (added, removed or rewritten)."""
    after = snapshot(r)
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def only_watch_marks(r: redis.Redis, key: bytes) -> bool:
    """Whether ``key`` is a task's progress stream holding nothing but ``watching`` marks: a
    reader's live task page opens the stream so that the worker can push the task's end into
    it (docs/operations.md, "Live progress"); no task, queue or report changes."""
    if b":progress:" not in key or r.type(key) != b"stream":
        return False
    entries = r.xrange(key)
    return bool(entries) and all(set(fields) == {b"watching"} for _, fields in entries)


def fetch(context: BrowserContext, method: str, url: str, **kwargs: Any) -> APIResponse:
    """One plain HTTP request with the context's cookies and headers; redirects not followed."""
    return context.request.fetch(url, method=method, max_redirects=0, **kwargs)


def refused(resp: APIResponse, mount: Mount) -> bool:
    """Whether the host turned the request away: 401/403/405, or a redirect out of the
    dashboard (to a login page)."""
    if resp.status in (401, 403, 405):
        return True
    if resp.status in (301, 302, 303, 307, 308):
        target = urlsplit(resp.headers.get("location", "")).path
        return not target.startswith(mount.prefix + "/")
    return False


def mutations(mount: Mount, corpus: Corpus) -> list[tuple[str, str, dict[str, Any]]]:
    """Every mutation route of the dashboard, each with every action it takes:
    ``(method, url, request options)``."""
    ids = corpus.plain.ids
    q = mount.url(f"/api/queues/{QUEUE}")
    found: list[tuple[str, str, dict[str, Any]]] = [
        ("DELETE", f"{q}?force=true", {}),
        ("POST", f"{q}:delete?force=true", {}),
        ("POST", f"{q}:pause", {}),
        ("POST", f"{q}:resume", {}),
    ]
    for state, actions in TASK_ACTIONS.items():
        if state == "aggregating":
            base = f"{q}/groups/grp/aggregating_tasks"
        else:
            base = f"{q}/{state}_tasks"
        task = ids[state]
        batch = {
            "data": json.dumps({"task_ids": [task]}),
            "headers": {"content-type": "application/json"},
        }
        if "delete" in actions:
            found += [("DELETE", f"{base}/{task}", {}), ("DELETE", f"{base}:delete_all", {})]
        for action in sorted(actions):
            found += [
                ("POST", f"{base}/{task}:{action}", {}),
                ("POST", f"{base}:{action}_all", {}),
                ("POST", f"{base}:batch_{action}", batch),
            ]
    return found


_DOM_PROBE = """() => {
  const all = Array.from(document.querySelectorAll('*'));
  const attrs = (test) => all.flatMap((el) => Array.from(el.attributes)
    .filter((a) => test(a)).map((a) => el.tagName + ' ' + a.name));
  const urlAttr = (a) => ['href', 'src', 'action', 'formaction'].includes(a.name);
  return {
    ran: window.__asynq_xss === 1,
    planted: all.filter((el) => (el.id || '').startsWith('xss-')).map((el) => el.id),
    handlers: attrs((a) => a.name.startsWith('on')),
    jsUrls: attrs((a) => urlAttr(a) && /^\\s*javascript:/i.test(a.value)),
    inlineScripts: Array.from(document.scripts).filter((s) => !s.src).length,
    text: document.body ? document.body.innerText : '',
  };
}"""


@contextmanager
def watched(context: BrowserContext) -> Iterator[tuple[Page, list[str]]]:
    """A tab recording dialogs (``alert``...), page errors and console errors."""
    page = context.new_page()
    page.set_default_timeout(20_000)
    events: list[str] = []

    def on_dialog(dialog: Any) -> None:
        events.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: events.append(f"pageerror: {exc}"))

    def on_console(message: Any) -> None:
        # A CSP refusal is logged here: markup got into the page and tried to run. A page
        # answering 404 on purpose is logged too, and is no event.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            events.append(f"console: {message.text}")

    page.on("console", on_console)
    try:
        yield page, events
    finally:
        page.close()


def csrf_token_of(page: Page) -> str:
    """The CSRF token a dashboard page hands its scripts."""
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    assert token, "the page carries no CSRF token"
    return token


def _context(browser: Browser, mount: Mount, role: str | None) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if role is not None:
        mount.login(context, role)
    return context


# --- the checks --------------------------------------------------------------------------


def check_strangers_get_nothing(browser: Browser, mount: Mount, corpus: Corpus) -> None:
    """Without logging in: every kind of endpoint refuses, and mutations change nothing."""
    ids = corpus.plain.ids
    paths = [
        "/",
        f"/queues/{QUEUE}?state=pending",
        f"/queues/{QUEUE}/tasks/{ids['pending']}",
        "/servers",
        "/api/queues",
        f"/api/queues/{QUEUE}/pending_tasks",
        f"/api/queues/{QUEUE}/tasks/{ids['active']}/progress",
        "/api/csrf",
        "/api/redis_info",
        "/static/dashboard.js",
        "/static/dashboard.css",
        "/metrics",
    ]
    urls = [mount.url(p) for p in paths] + [mount.origin + p for p in mount.also_protected]
    before = snapshot(mount.r)
    context = _context(browser, mount, None)
    try:
        for url in urls:
            resp = fetch(context, "GET", url)
            assert refused(resp, mount), f"{mount.name}: GET {url} answered {resp.status}"
            assert QUEUE not in resp.text(), f"{mount.name}: GET {url} leaked the queue"
        for method, url, options in mutations(mount, corpus)[:6]:
            resp = fetch(context, method, url, **options)
            assert refused(resp, mount), f"{mount.name}: {method} {url} answered {resp.status}"
        with watched(context) as (page, _):
            page.goto(mount.url("/"))
            assert page.locator("meta[name=csrf-token]").count() == 0
            assert QUEUE not in page.content()
    finally:
        context.close()
    assert not (diff := changed(before, mount.r)), (
        f"{mount.name}: a stranger changed Redis: {diff!r}"
    )


def check_readers_cannot_act(browser: Browser, mount: Mount, corpus: Corpus) -> None:
    """A reader sees the pages without action controls; every mutation route refuses them,
    even with a valid CSRF token, and Redis is unchanged."""
    ids = corpus.plain.ids
    context = _context(browser, mount, "reader")
    before = snapshot(mount.r)
    try:
        with watched(context) as (page, _):
            for path in (
                "/",
                f"/queues/{QUEUE}?state=retry",
                f"/queues/{QUEUE}/tasks/{ids['retry']}",
            ):
                resp = page.goto(mount.url(path))
                assert resp is not None and resp.status == 200, f"{mount.name}: reader GET {path}"
                assert page.locator(f"text={QUEUE}").count() > 0
                controls = page.locator(
                    "button, input[type=submit], input[type=checkbox], [formaction]"
                )
                assert controls.count() == 0, f"{mount.name}: reader sees actions on {path}"
            token = csrf_token_of(page)
        for method, url, options in mutations(mount, corpus):
            headers = {**options.get("headers", {}), "x-csrf-token": token}
            resp = fetch(context, method, url, **{**options, "headers": headers})
            assert resp.status in (403, 405), f"{mount.name}: reader {method} {url}: {resp.status}"
    finally:
        context.close()
    diff = [key for key in changed(before, mount.r) if not only_watch_marks(mount.r, key)]
    assert not diff, f"{mount.name}: a reader changed Redis: {diff!r}"


def check_every_mutation_needs_the_token(browser: Browser, mount: Mount, corpus: Corpus) -> None:
    """A writer's mutation without the token, with a forged one, or posted by a form on another
    origin is refused and changes nothing; the same mutation with the page's token works."""
    context = _context(browser, mount, "writer")
    before = snapshot(mount.r)
    try:
        with watched(context) as (page, _):
            page.goto(mount.url("/"))
            token = csrf_token_of(page)
            for method, url, options in mutations(mount, corpus):
                for forged in (None, "forged", token + "x"):
                    headers = dict(options.get("headers", {}))
                    if forged is not None:
                        headers["x-csrf-token"] = forged
                    resp = fetch(context, method, url, **{**options, "headers": headers})
                    assert resp.status == 403, (
                        f"{mount.name}: {method} {url} with token {forged!r}: {resp.status}"
                    )
            assert not (diff := changed(before, mount.r)), (
                f"{mount.name}: a forged mutation changed Redis: {diff!r}"
            )

            # Another site's form, even one carrying the real token, posts without our cookies.
            pause = mount.url(f"/api/queues/{QUEUE}:pause")
            evil = (
                f'<form id=f method=post action="{pause}">'
                f'<input name=csrf_token value="{token}"></form>'
                "<script>document.getElementById('f').submit()</script>"
            )
            page.route(
                "http://evil.invalid/**",
                lambda route: route.fulfill(status=200, content_type="text/html", body=evil),
            )
            with page.expect_navigation(url=lambda u: u.startswith(mount.origin)):
                page.goto("http://evil.invalid/attack")
            assert not mount.r.exists(keys.paused_key(QUEUE)), (
                f"{mount.name}: a cross-origin form paused the queue"
            )
            assert not (diff := changed(before, mount.r)), (
                f"{mount.name}: a cross-origin form changed Redis: {diff!r}"
            )

            # The control: the page's own token is accepted, so the refusals above mean something.
            resp = fetch(context, "POST", pause, headers={"x-csrf-token": token})
            assert resp.status == 204, f"{mount.name}: the page's token was refused: {resp.status}"
            assert mount.r.exists(keys.paused_key(QUEUE))
    finally:
        context.close()


def _xss_pages(corpus: Corpus) -> list[tuple[str, int]]:
    """``(path, status)``: pages showing the stored corpus, then pages reflecting it from the
    URL (an unknown queue's error page, query parameters)."""
    q, ids = seg(XSS_QUEUE), corpus.xss_ids
    payload = quote(CORPUS[1], safe="")
    return [
        ("/", 200),
        (f"/queues/{q}?state=active", 200),
        (f"/queues/{q}?state=retry", 200),
        (f"/queues/{q}?state=completed", 200),
        (f"/queues/{q}?state=aggregating&group={quote(XSS_GROUP, safe='')}", 200),
        (f"/queues/{q}/tasks/{ids['retry']}", 200),
        (f"/queues/{q}/tasks/{ids['completed']}", 200),
        (f"/queues/{q}/tasks/{ids['archived']}", 200),
        ("/servers", 200),
        ("/schedulers", 200),
        (f"/schedulers/{seg(corpus.entry_id)}", 200),
        (f"/queues/{seg(CORPUS[2])}?state=pending", 404),
        (f"/queues/{QUEUE}?state={payload}&size={payload}&page={payload}", 404),
        (f"/queues/{QUEUE}?state=aggregating&group={payload}", 200),
    ]


def check_markup_stays_text(browser: Browser, mount: Mount, corpus: Corpus) -> None:
    """Every field holding :data:`CORPUS` renders as text: no payload runs (sentinel, dialogs,
    errors), none leaves an element, handler or ``javascript:`` URL in the DOM. Downloads of
    payloads and results are files, never pages."""
    context = _context(browser, mount, "writer")
    try:
        with watched(context) as (page, events):
            for path, status in _xss_pages(corpus):
                resp = page.goto(mount.url(path))
                where = f"{mount.name} {path}"
                assert resp is not None and resp.status == status, (
                    f"{where}: {resp and resp.status}"
                )
                probe = page.evaluate(_DOM_PROBE)
                assert not probe["ran"], f"{where}: a payload ran"
                assert probe["planted"] == [], f"{where}: unescaped markup {probe['planted']}"
                assert probe["handlers"] == [], f"{where}: inline handlers {probe['handlers']}"
                assert probe["jsUrls"] == [], f"{where}: javascript: URLs {probe['jsUrls']}"
                assert probe["inlineScripts"] == 0, f"{where}: inline <script> in the page"
                if path == "/":
                    assert XSS_QUEUE in probe["text"], f"{where}: the queue name is not shown"
                if path.endswith((corpus.xss_ids["retry"], corpus.xss_ids["completed"])):
                    assert CORPUS[0] in probe["text"], f"{where}: the payload is not shown"
            assert events == [], f"{mount.name}: {events}"
            # The JSON API answers JSON (never sniffed as a page) with the text as data.
            api = fetch(context, "GET", mount.url(f"/api/queues/{seg(XSS_QUEUE)}/retry_tasks"))
            assert api.headers["content-type"].startswith("application/json")
            assert api.headers.get("x-content-type-options") == "nosniff"
            assert json.dumps(XSS_TEXT) in json.dumps(api.json())
            task = f"/queues/{seg(XSS_QUEUE)}/tasks/{corpus.xss_ids['completed']}"
            for part in ("payload", "result"):
                got = fetch(context, "GET", mount.url(f"{task}/{part}"))
                assert got.status == 200, f"{mount.name}: download {part}: {got.status}"
                assert got.headers["content-type"] == "application/octet-stream"
                assert got.headers["content-disposition"].startswith("attachment;")
                assert got.headers.get("x-content-type-options") == "nosniff"
    finally:
        context.close()


def check_no_secret_is_shown(browser: Browser, mount: Mount, corpus: Corpus) -> None:
    """No page, JSON answer, metric or header carries a secret or a session cookie."""
    context = _context(browser, mount, "writer")
    ids = corpus.plain.ids
    paths = [
        "/",
        "/servers",
        "/schedulers",
        "/redis",
        f"/queues/{QUEUE}?state=pending",
        f"/queues/{QUEUE}/tasks/{ids['pending']}",
        "/api/queues",
        "/api/servers",
        "/api/redis_info",
        "/api/scheduler_entries",
        f"/api/queues/{QUEUE}/tasks/{ids['completed']}",
        "/metrics",
    ]
    try:
        with watched(context) as (page, _):
            page.goto(mount.url("/"))
            cookies = [c["value"] for c in context.cookies() if len(c["value"]) >= 8]
            secrets = [s for s in (*mount.secrets, *cookies) if s]
            assert secrets, "nothing to look for"
            for path in paths:
                resp = fetch(context, "GET", mount.url(path))
                assert resp.status == 200, f"{mount.name}: GET {path}: {resp.status}"
                headers = {k: v for k, v in resp.headers.items() if k != "set-cookie"}
                seen = resp.text() + json.dumps(headers)
                for secret in secrets:
                    assert secret not in seen, f"{mount.name}: GET {path} shows a secret"
    finally:
        context.close()


#: Every response of the dashboard carries these (the values are the dashboard's own).
REQUIRED_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


def check_security_headers(browser: Browser, mount: Mount, corpus: Corpus) -> None:
    """Pages, JSON, static files, refusals: CSP (scripts only from the dashboard, no framing
    by other sites), nosniff, a referrer policy, ``X-Frame-Options``."""
    writer = _context(browser, mount, "writer")
    reader = _context(browser, mount, "reader")
    try:
        answers = [
            fetch(writer, "GET", mount.url("/")),
            fetch(writer, "GET", mount.url(f"/queues/{QUEUE}?state=pending")),
            fetch(writer, "GET", mount.url("/api/queues")),
            fetch(writer, "GET", mount.url("/static/dashboard.js")),
            fetch(writer, "POST", mount.url(f"/api/queues/{QUEUE}:pause")),  # no token: 403
            fetch(reader, "POST", mount.url(f"/api/queues/{QUEUE}:pause")),  # reader: 403
        ]
        for resp in answers:
            where = f"{mount.name} {resp.url} ({resp.status})"
            for name in REQUIRED_HEADERS:
                assert name in resp.headers, f"{where}: no {name}"
            csp = resp.headers["content-security-policy"]
            assert "frame-ancestors 'self'" in csp and "script-src 'self'" in csp, where
            assert "unsafe-inline" not in csp, where
            assert resp.headers["x-content-type-options"] == "nosniff", where
            assert resp.headers.get("x-frame-options", "").upper() in ("SAMEORIGIN", "DENY"), where
        with watched(writer) as (page, _):
            page.goto(mount.url("/"))
            for cookie in writer.cookies():
                if cookie["name"].startswith("asynq_"):
                    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
    finally:
        writer.close()
        reader.close()


#: The contract: every mount runs every check.
CHECKS: dict[str, Callable[[Browser, Mount, Corpus], None]] = {
    "strangers_get_nothing": check_strangers_get_nothing,
    "readers_cannot_act": check_readers_cannot_act,
    "every_mutation_needs_the_token": check_every_mutation_needs_the_token,
    "markup_stays_text": check_markup_stays_text,
    "no_secret_is_shown": check_no_secret_is_shown,
    "security_headers": check_security_headers,
}
