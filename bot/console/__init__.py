"""The staff console: a small Sanic web app for the human handoff and the tickets.

Started by ``mdm serve`` (``make run``) on ``MDM_CONSOLE_PORT`` (8090), or alone with
``python -m bot.console``. Pages are server-rendered with Jinja2 (autoescaped: user text is
always shown as text), the only script is ``static/console.js`` (same origin, for the live
queue and transcript), and nothing is fetched from the internet.

Why Sanic: it is already installed and pinned by Rasa 3.6 (21.12), so the console adds no
dependency and no risk to Rasa's pins; Starlette + uvicorn would add two packages for the
same result.
"""
