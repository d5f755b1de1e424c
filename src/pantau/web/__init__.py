"""The reviewer web app: FastAPI, server-rendered Jinja2 templates, a JSON API, a little own JavaScript."""
