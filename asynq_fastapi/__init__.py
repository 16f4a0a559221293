"""FastAPI integration for asynq.

Not implemented yet: this package only reserves the import name. Until it lands, use
:class:`asynq.Client` / :class:`asynq.AsyncClient` and :class:`asynq.server.Server` directly;
the dashboard already mounts anywhere through :func:`asynq.web.create_app` (ASGI) and
:func:`asynq.web.create_wsgi_app` (WSGI).
"""
