"""Django settings of the adapter's test project (also used by the worker subprocesses)."""

from __future__ import annotations

import os
import tempfile

SECRET_KEY = "asynq-django-tests"
# Worker subprocesses of the --reload tests run with DEBUG on.
DEBUG = os.environ.get("ASYNQ_DJANGO_TEST_DEBUG") == "1"
USE_TZ = True
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests_django.urls"

try:
    import django.tasks  # noqa: F401 - Django 6.0+

    TASKS_APP: list[str] = []
except ImportError:
    TASKS_APP = ["django_tasks"]  # the backport on Django 5.2

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",  # the live server serves the admin's CSS and scripts
    *TASKS_APP,
    "asynq_django",
    "tests_django.shop",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# One SQLite file that the test process and its worker subprocesses share (they inherit the
# environment variable); pytest-django creates and removes it.
DB_PATH = os.environ.setdefault(
    "ASYNQ_DJANGO_TEST_DB",
    os.path.join(tempfile.gettempdir(), f"asynq-django-test-{os.getpid()}.sqlite3"),
)
OTHER_DB_PATH = DB_PATH.replace(".sqlite3", "-other.sqlite3")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DB_PATH,
        "TEST": {"NAME": DB_PATH},
    },
    # A second database, for enqueue_on_commit(..., using="other").
    "other": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": OTHER_DB_PATH,
        "TEST": {"NAME": OTHER_DB_PATH},
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# REDIS_URL comes from $ASYNQ_REDIS_URL, which the conftest points at its own redis-server.
ASYNQ = {
    "QUEUES": {"critical": 6, "default": 3},
    "CONCURRENCY": 4,
    "SHUTDOWN_TIMEOUT": 3,
    "RETENTION": 600,
    "API_TOKEN": "s3cret-token",
    "PERIODIC_TASKS": [
        {"cron": "@every 1s", "task": "tests_django.shop.tasks.add", "args": [1, 2]}
    ],
}
TASKS = {
    "default": {
        "BACKEND": "asynq_django.backend.AsynqBackend",
        "QUEUES": ["default", "critical"],
    }
}
STATIC_URL = "/static/"
