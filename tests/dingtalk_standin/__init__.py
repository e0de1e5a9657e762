"""A local stand-in for DingTalk (钉钉), for offline tests of the DingTalk channel (issue 22).

:class:`DingTalkStandIn` is an aiohttp server on ``127.0.0.1`` speaking the published protocol:
the Stream gateway (``/v1.0/gateway/connections/open`` → endpoint and single-use ticket; the
WebSocket with CALLBACK frames for robot messages and card presses, SYSTEM ping and disconnect,
acks checked), ``/v1.0/oauth2/accessToken``, ``robot/messageFiles/download`` and its download
URL, ``robot/oToMessages/batchSend``, the interactive-card send and update, the session
webhook, ``media/upload`` and ``topapi/v2/user/getuserinfo``. It refuses what DingTalk refuses
(bad credentials or token, text over 5000 characters, media over 20 MB, unknown users, cards and
codes) with DingTalk's error shapes (see :mod:`tests.dingtalk_standin.records`), and records
every accepted call in ``sent`` and every refused one in ``rejected``::

    async with DingTalkStandIn() as ding:
        ding.add_user("u1", "张三")
        # KEXIE_DINGTALK_API_URL = ding.api_url, KEXIE_DINGTALK_OAPI_URL = ding.oapi_url
        msg_id = await ding.send_text("u1", "/mine")
        await ding.wait_acked(msg_id)
        await ding.wait_for(lambda: ding.texts_to("u1"))
"""

from tests.dingtalk_standin.records import Card, Media, Rejected, Sent
from tests.dingtalk_standin.server import DingTalkStandIn

__all__ = ["Card", "DingTalkStandIn", "Media", "Rejected", "Sent"]
