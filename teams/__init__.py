"""The Teams edge: every import of the Bot Framework SDK (botbuilder, botframework, msrest) is here.

- `app`: the aiohttp application (`create_app`): `POST /api/messages`, `GET /healthz`, the adapter;
- `handler`: the activity handler: whether to answer, the user's state in and out, greetings,
  the conversation registry, the hand-off to people;
- `activity`: `to_activity` (our `OutgoingMessage` as an Activity, for replies, hand-off and
  announcements) and `start_channel_thread` (a new thread in a channel, for both);
- `admin`: the admin's announcement commands in chat and the scheduler task;
- `sender`: the announcement sender through the Bot Connector REST API;
- `auth`: our own check of the Bot Framework token (asynchronous, bounded, cached keys);
- `service_url`: which `serviceUrl` an activity may name (loopback or Microsoft's service hosts
  without authentication, never credentials);
- `bot_authentication`: botbuilder authentication that trusts that check, and `to_botbuilder_config`;
- `outgoing_tokens`: outgoing tokens cached per app id and scope, fetched off the event loop;
- `connector_clients`: Bot Connector clients reused across turns (per service URL and credentials);
- `msrest_fix`: measured start-up fixes to the archived SDK's HTTP client layer (msrest);
- `compose`: `Settings` to the plain objects the domain packages are built with;
- `echo_sample`: Microsoft's echo bot sample, the baseline `make bench` measures Kanalvakten against.

Everything else is plain Python (a test enforces it: `tests/test_layering.py`). A port to the
Microsoft 365 Agents SDK replaces this package and nothing else.
"""
