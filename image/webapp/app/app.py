"""The example web app. Flask's reloader restarts it when a file of its source changes: edited
over WebDAV, or in the checkout that compose.yaml mounts."""

from flask import Flask

GREETING = "hello from the example app"

app = Flask(__name__)


@app.route("/")
def index():
    return GREETING + "\n"


@app.route("/healthz")
def healthz():
    return "ok\n"
