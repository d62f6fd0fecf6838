"""The help desk around the bot: what happens to questions, and to what is kept about people.

- `handoff`: where unanswered or urgent questions go (the experts' channel or @mentions);
- `question_log`: the anonymous per-topic log of what was asked;
- `question_texts`: the scrubbed texts of unanswered, asked-back and 👎 questions, grouped for the report;
- `scrub`: e-mail addresses, phone numbers, personnummer and names out of a text before it is kept;
- `report`: `python bot.py report` (statistics, grouped texts) and `report --purge`;
- `retention`: GDPR retention of user state, the question log, greetings and removed conversations.

Plain Python, no SDK: `teams.handler` posts the hand-off card (`cards.handoff`).
"""
