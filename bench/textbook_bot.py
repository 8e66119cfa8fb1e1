"""The textbook Bolt bot, kept only as the benchmark's point of comparison.

It does what Bolt's getting-started guide does: ack, then call the API in the same listener on
Bolt's default listener pool, with a plain `requests.get` per call. Not part of the product.
"""

import os

import requests
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult


def create_wsgi_app():
    def authorize(enterprise_id, team_id, user_id):
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                               bot_token=os.environ["SLACK_BOT_TOKEN"])

    app = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], authorize=authorize)
    base = os.environ["WHATCONVERTS_API_URL"]
    auth = (os.environ["WHATCONVERTS_API_TOKEN"], os.environ["WHATCONVERTS_API_SECRET"])

    @app.command("/profiles")
    def profiles(ack, command, respond):
        ack()
        account = command["text"].split()[1]
        answer = requests.get(f"{base}/accounts/{account}/profiles", auth=auth, timeout=30)
        respond(text=f"{answer.json()['total_profiles']} profiles")

    return SlackRequestHandler(app)
