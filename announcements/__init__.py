"""Proactive announcements: who the bot can reach, what it says, and delivering it exactly once.

- `registry`: the conversations the bot is installed in (personal chats, group chats, teams).
- `content`: the announcement from the knowledge base (loaded once by the caller), filled with the
  configured election.
- `ledger` and `broadcast`: the delivery engine (plain Python, no SDK): a persisted ledger
  per announcement and conversation, rate limits, retries, Retry-After. The sender that talks to
  the Bot Connector is `teams.sender`.
- `schedule`: a send time persisted and honoured by the running bot.
- `cli`: `python bot.py announce preview|send|status|schedule`.
- `admin`: what the activity handler (`teams.admin`) calls for "utskick förhandsvisa" / "utskick skicka".
"""
