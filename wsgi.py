"""WSGI entry point for gunicorn and `flask --app wsgi`."""
from community import create_app

app = create_app()
