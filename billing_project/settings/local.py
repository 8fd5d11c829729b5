"""Developer defaults: DEBUG on, the embedded PostgreSQL of `make run` unless DATABASE_URL says
otherwise, in-process tasks unless REDIS_URL is set."""

from billing_project.settings.base import *
from billing_project.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-please-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
