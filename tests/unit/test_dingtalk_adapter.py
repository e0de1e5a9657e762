"""The DingTalk adapter's own rules, without a network: how robot messages and card presses read
as the port's events, the ordinals that keep one chat's events apart, and which call a reply
costs (the session webhook while it is fresh: no metered API call)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from channels.dingtalk.api import DingTalkApi
from channels.dingtalk.front import DingTalkFront
from channels.dingtalk.incoming import message_event, press_event
from channels.dingtalk.stream import Dispatcher
from core.address import Address
from core.enums import Channel
from core.settings import load_settings
from handlers.port import Card

ME = Address(Channel.DINGTALK, "staff1")


async def _never(code: str) -> bytes:
    raise AssertionError("nothing is downloaded before a flow asks")


def _message(msgtype: str, **fields: Any) -> dict[str, Any]:
    return {
        "conversationType": "1",
        "senderStaffId": "staff1",
        "senderNick": "王芳",
        "msgId": "msg1",
        "createAt": 1765000000123,
        "msgtype": msgtype,
        **fields,
    }


def test_text_picture_file_and_what_is_never_evidence() -> None:
    text = message_event(_message("text", text={"content": "  /报送 \n"}), _never)
    assert text is not None and text.kind == "text" and text.text == "/报送"
    assert text.sender == ME and text.sender_name == "王芳" and text.time is not None
    picture = message_event(_message("picture", content={"downloadCode": "dc1"}), _never)
    assert picture is not None and picture.kind == "photo"
    assert [(f.kind, f.ref, f.size) for f in picture.files] == [("photo", "dc1", None)]
    sheet = _message("file", content={"downloadCode": "dc2", "fileName": "签到表.pdf"})
    document = message_event(sheet, _never)
    assert document is not None and document.kind == "file"
    assert [(f.kind, f.name) for f in document.files] == [("document", "签到表.pdf")]
    voice = message_event(_message("audio", content={"downloadCode": "dc3"}), _never)
    assert voice is not None and voice.unsupported == "kind_voice" and not voice.files


def test_a_rich_text_with_pictures_is_an_album_and_group_chats_are_not_served() -> None:
    parts = [{"text": "活动照片"}, {"downloadCode": "p1"}, {"downloadCode": "p2"}]
    rich = message_event(_message("richText", content={"richText": parts}), _never)
    assert rich is not None and rich.kind == "photo"
    assert [f.ref for f in rich.files] == ["p1", "p2"]
    assert len({f.album for f in rich.files}) == 1 and rich.files[0].album
    group = _message("text", text={"content": "/报送"}, conversationType="2")
    assert message_event(group, _never) is None


def test_a_press_carries_the_button_id_and_the_card_it_was_on() -> None:
    content = json.dumps({"cardPrivateData": {"actionIds": ["rpt:ok:7"], "params": {}}})
    known = Card("card1", "请核对", "请核对", ((("提交", "rpt:ok:7"),),))
    cards = {"card1": known}
    data = {"userId": "staff1", "outTrackId": "card1", "content": content}
    press = press_event(data, "frame1", cards.get)
    assert press is not None and press.kind == "button" and press.pressed == "rpt:ok:7"
    assert press.card is known and press.sender == ME and press.key == "frame1"
    unknown = press_event(
        {"userId": "staff1", "outTrackId": "card2", "content": content}, "f2", cards.get
    )
    assert unknown is not None and unknown.card == Card("card2", None, None, None)
    assert press_event({"outTrackId": "card1", "content": content}, "f3", cards.get) is None


def test_one_chat_s_ordinals_grow_and_a_repeated_event_keeps_its_stamp() -> None:
    dispatcher = Dispatcher(None, None, None, concurrency=1)  # type: ignore[arg-type]
    stamp = 1765000000123
    first = dispatcher._ordinal("staff1", "msg1", stamp)
    second = dispatcher._ordinal("staff1", "msg2", stamp)  # two pictures, one millisecond
    assert (first, second) == (stamp, stamp + 1)
    # The same message again (DingTalk delivers what was not acked): its own stamp, which
    # the answer stored with it recognises.
    assert dispatcher._ordinal("staff1", "msg1", stamp) == stamp
    assert dispatcher._ordinal("staff2", "msg3", stamp) == stamp  # another chat: its own


async def test_a_reply_uses_the_fresh_session_webhook_and_else_the_api(tmp_path: Path) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("accessToken"):
            return httpx.Response(200, json={"accessToken": "t", "expireIn": 7200})
        if request.url.path == "/hook":
            return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})
        return httpx.Response(200, json={"processQueryKey": "k", "invalidStaffIdList": []})

    settings = load_settings(
        data_dir=tmp_path,
        dingtalk_client_id="id",
        dingtalk_client_secret="secret",
        dingtalk_api_url="http://dingtalk.test",
    )
    api = DingTalkApi(settings, transport=httpx.MockTransport(answer))
    front = DingTalkFront(api, settings, lambda: None)
    try:
        await front.send_text(ME, "<b>第2步</b>", urgent=True)  # no webhook known yet
        soon = int(time.time() * 1000) + 30 * 60_000
        front.note_webhook(ME, "http://dingtalk.test/hook", soon)
        await front.send_text(ME, "<b>第3步</b>", urgent=True)
        front.note_webhook(ME, "http://dingtalk.test/hook", int(time.time() * 1000))  # expired
        await front.send_text(ME, "<b>第4步</b>", urgent=True)
    finally:
        await api.aclose()
    sends = [path for path in seen if not path.endswith("accessToken")]
    assert sends == [
        "/v1.0/robot/oToMessages/batchSend",
        "/hook",
        "/v1.0/robot/oToMessages/batchSend",
    ]
    assert api.calls["webhook"] == 1 and api.calls["batchSend"] == 2
