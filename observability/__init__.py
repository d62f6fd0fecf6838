"""What an operator sees of the running bot: the log format and the correlation id of each turn
(`observability.logs`). Plain Python, no SDK."""
