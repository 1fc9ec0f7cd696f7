"""The WSGI entry point: ``gunicorn app:app``."""

from wallet import create_app

app = create_app()
