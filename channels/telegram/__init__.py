"""The Telegram adapter: python-telegram-bot's updates in, the flows' outputs out (the only
place below the assembly, ``bot/``, that knows Telegram)."""
