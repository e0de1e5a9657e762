"""The channel-free core: settings, rules, the permission policy, catalogs, cards, codecs.

Nothing here imports Telegram or the database; every other layer builds on it.
"""
