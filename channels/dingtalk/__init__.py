"""DingTalk (钉钉): the second channel, an enterprise-internal app's robot in Stream mode."""
