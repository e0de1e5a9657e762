"""The DingTalk (钉钉) adapter: a robot in Stream mode, its HTTP API, cards and markdown."""
