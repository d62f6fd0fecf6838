"""Proactive announcements: who the bot can reach, what it says, and delivering it exactly once.

- `registry`: the conversations the bot is installed in (personal chats, group chats, teams).
- `content`: the announcement from the knowledge base, filled with the configured election.
- `ledger` and `broadcast`: the delivery engine (plain Python, no botbuilder): a persisted ledger
  per announcement and conversation, rate limits, retries, Retry-After.
- `botframework_sender`: the one place that talks to the Bot Connector.
- `schedule`: a send time persisted and honoured by the running bot.
- `cli`: `python bot.py announce preview|send|status|schedule`.
- `admin`: what the activity handler calls for "utskick förhandsvisa" / "utskick skicka".
"""
