"""kexie — 科协活动报送机器人 (activity reporting bot for Chengdu's grassroots S&T associations)."""

__version__ = "0.1.0"
