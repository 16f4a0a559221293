"""Settings of the example shop. Redis comes from $ASYNQ_REDIS_URL (demo.py sets it)."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
SECRET_KEY = "example-shop-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "django_shop.urls"
USE_TZ = True
TIME_ZONE = "UTC"

try:
    import django.tasks  # noqa: F401 - Django 6.0+ ships the task framework
except ImportError:
    TASKS_APP = ["django_tasks"]  # Django 5.2: the django-tasks backport
else:
    TASKS_APP = []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    *TASKS_APP,
    "asynq_django",
    "shop",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
DB_PATH = os.environ.get("SHOP_DB", str(BASE_DIR / "shop.sqlite3"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DB_PATH,
        "TEST": {"NAME": f"{DB_PATH}-test"},  # a file, which the test's worker threads share
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"

ASYNQ = {
    "QUEUES": {"orders": 6, "default": 3, "low": 1},
    "CONCURRENCY": 4,
    "RETENTION": 3600,  # results stay readable for an hour
    "PERIODIC_TASKS": [{"cron": "@every 30s", "task": "shop.tasks.count_orders"}],
}
TASKS = {
    "default": {
        "BACKEND": "asynq_django.backend.AsynqBackend",
        "QUEUES": ["orders", "default", "low"],
    }
}
