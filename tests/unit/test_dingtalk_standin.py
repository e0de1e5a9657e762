"""The DingTalk stand-in (tests/dingtalk_standin) speaks the protocol the real SDK speaks, and
refuses what DingTalk refuses with DingTalk's status and codes.

The SDK (dingtalk-stream 0.24.3) opens its connection with blocking ``requests``, so it runs
here in a thread with its own event loop while the stand-in serves on the test's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
from dingtalk_stream import AckMessage, CallbackHandler, Credential, DingTalkStreamClient
from dingtalk_stream.frames import CallbackMessage

from tests.dingtalk_standin.records import (
    AUTH_CODE_TTL,
    CARD_TOPIC,
    MAX_MEDIA_BYTES,
    ROBOT_TOPIC,
    SESSION_TTL,
    TOKEN_TTL,
)
from tests.dingtalk_standin.server import DingTalkStandIn

USER = "manager01"


class _Clock:
    """A clock a test moves forward (the stand-in reads ``standin.clock``)."""

    def __init__(self) -> None:
        self.now = 1_765_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def ding() -> AsyncIterator[DingTalkStandIn]:
    async with DingTalkStandIn() as standin:
        standin.add_user(USER, "张三")
        yield standin


@pytest.fixture
def clock(ding: DingTalkStandIn) -> _Clock:
    ticking = _Clock()
    ding.clock = ticking
    return ticking


@pytest.fixture
async def http(ding: DingTalkStandIn) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=ding.api_url, trust_env=False) as client:
        yield client


async def _token(http: httpx.AsyncClient) -> str:
    answer = await http.post(
        "/v1.0/oauth2/accessToken",
        json={"appKey": "ding-test-id", "appSecret": "ding-test-secret"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["accessToken"])


async def _authed(http: httpx.AsyncClient) -> dict[str, str]:
    return {"x-acs-dingtalk-access-token": await _token(http)}


def _card(text: str = "请审核", buttons: list[tuple[str, str]] | None = None) -> str:
    rows = [
        {
            "type": "action",
            "id": f"a{n}",
            "actions": [
                {
                    "type": "button",
                    "label": {"type": "text", "text": label},
                    "actionType": "request",
                    "status": "normal",
                    "id": button_id,
                }
            ],
        }
        for n, (label, button_id) in enumerate(
            [("通过", "ok:1"), ("退回", "back:1")] if buttons is None else buttons
        )
    ]
    data = {
        "config": {"autoLayout": True, "enableForward": False},
        "header": {"title": {"type": "text", "text": "报送"}},
        "contents": [{"type": "markdown", "text": text, "id": "m0"}, *rows],
    }
    return json.dumps(data, ensure_ascii=False)


async def _send_card(
    http: httpx.AsyncClient, headers: dict[str, str], biz_id: str, user: str = USER
) -> httpx.Response:
    return await http.post(
        "/v1.0/im/v1.0/robot/interactiveCards/send",
        headers=headers,
        json={
            "cardTemplateId": "StandardCard",
            "singleChatReceiver": json.dumps({"userId": user}),
            "cardBizId": biz_id,
            "robotCode": "ding-test-id",
            "cardData": _card(),
        },
    )


async def _batch(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    key: str,
    param: dict[str, Any],
    users: list[str],
) -> httpx.Response:
    body = {
        "robotCode": "ding-test-id",
        "userIds": users,
        "msgKey": key,
        "msgParam": json.dumps(param, ensure_ascii=False),
    }
    return await http.post("/v1.0/robot/oToMessages/batchSend", headers=headers, json=body)


# -- the real SDK against the stand-in -----------------------------------------------------


class _Recorder(CallbackHandler):
    """Records every callback's data (called on the SDK's thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict[str, Any]] = []

    async def process(self, message: CallbackMessage) -> tuple[int, str]:
        self.seen.append(message.data)
        return AckMessage.STATUS_OK, "OK"


class _Client(DingTalkStreamClient):
    """The SDK's client, unchanged but for a way to stop it: once ``stopping`` is set it
    opens no new connection (its loop then sleeps, where a cancel ends it)."""

    stopping = False

    def open_connection(self) -> dict[str, str] | None:
        return None if self.stopping else super().open_connection()


class _SdkThread:
    """``DingTalkStreamClient.start()`` on a thread of its own (its HTTP calls block)."""

    def __init__(self, client: _Client) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        with contextlib.suppress(asyncio.CancelledError, RuntimeError):  # stopped by the test
            self.loop.run_until_complete(self.client.start())

    def stop(self) -> None:
        """Close the socket cleanly, then cancel the SDK's loop (called off the test's loop,
        which must stay free to answer the close handshake)."""
        self.client.stopping = True
        websocket = self.client.websocket
        if websocket is not None:
            closing = asyncio.run_coroutine_threadsafe(websocket.close(), self.loop)
            with contextlib.suppress(Exception):
                closing.result(timeout=5)

        def cancel_all() -> None:
            for task in asyncio.all_tasks(self.loop):
                task.cancel()

        # The SDK's loop catches one CancelledError (and sleeps): cancel until it gives up.
        while self.thread.is_alive():
            self.loop.call_soon_threadsafe(cancel_all)
            self.thread.join(0.2)
        self.loop.close()


@pytest.fixture
async def sdk(
    ding: DingTalkStandIn, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[_Recorder, _Recorder]]:
    # open_connection reads the class attribute (computed at import from the environment).
    monkeypatch.setattr(
        DingTalkStreamClient,
        "OPEN_CONNECTION_API",
        ding.api_url + "/v1.0/gateway/connections/open",
    )
    client = _Client(Credential("ding-test-id", "ding-test-secret"))
    messages, presses = _Recorder(), _Recorder()
    client.register_callback_handler(ROBOT_TOPIC, messages)
    client.register_callback_handler(CARD_TOPIC, presses)
    runner = _SdkThread(client)
    runner.thread.start()
    yield messages, presses
    await asyncio.to_thread(runner.stop)


async def test_sdk_receives_a_message_and_acks_it(
    ding: DingTalkStandIn, sdk: tuple[_Recorder, _Recorder]
) -> None:
    messages, _ = sdk
    await ding.wait_for(lambda: ding.connected)
    msg_id = await ding.send_text(USER, "报送")
    ack = await ding.wait_acked(msg_id)
    assert ack["code"] == 200
    assert ack["headers"]["messageId"] == ding.frame_id(msg_id)
    assert [m["text"]["content"] for m in messages.seen] == ["报送"]
    seen = messages.seen[0]
    assert (seen["senderStaffId"], seen["msgId"], seen["conversationType"]) == (USER, msg_id, "1")
    assert seen["sessionWebhook"].startswith(ding.api_url + "/robot/sendBySession?session=")
    assert ding.unacked() == [] and ding.awaiting_ack() == []
    assert ding.calls["connectionsOpen"] == 1


async def test_sdk_answers_ping_and_reconnects_after_disconnect(
    ding: DingTalkStandIn, sdk: tuple[_Recorder, _Recorder]
) -> None:
    messages, _ = sdk
    await ding.wait_for(lambda: ding.connected)
    await ding.ping()  # raises unless the opaque comes back
    await ding.send_disconnect()
    await ding.wait_for(lambda: ding.connections == 2 and ding.connected)
    assert ding.calls["connectionsOpen"] == 2  # a new ticket: the old one was single use
    msg_id = await ding.send_text(USER, "还在吗")
    await ding.wait_acked(msg_id)
    assert messages.seen[-1]["text"]["content"] == "还在吗"


async def test_sdk_receives_a_card_press(
    ding: DingTalkStandIn, sdk: tuple[_Recorder, _Recorder], http: httpx.AsyncClient
) -> None:
    _, presses = sdk
    answer = await _send_card(http, await _authed(http), "card-1")
    assert answer.status_code == 200, answer.text
    await ding.wait_for(lambda: ding.connected)
    frame_id = await ding.press(USER, "card-1", "ok:1")
    await ding.wait_acked(frame_id)
    press = presses.seen[0]
    assert (press["outTrackId"], press["userId"]) == ("card-1", USER)
    assert json.loads(press["content"])["cardPrivateData"]["actionIds"] == ["ok:1"]


async def test_frames_wait_for_a_connection_and_late_acks_are_listed(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    msg_id = await ding.send_text(USER, "排队")  # nobody connected yet: queued
    assert ding.queued == 1
    opened = await http.post(
        "/v1.0/gateway/connections/open",
        json={
            "clientId": "ding-test-id",
            "clientSecret": "ding-test-secret",
            "subscriptions": [{"type": "CALLBACK", "topic": ROBOT_TOPIC}],
        },
    )
    connection = opened.json()
    ding.ack_timeout = 0.1
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(connection["endpoint"], params={"ticket": connection["ticket"]}) as ws,
    ):
        frame = json.loads((await ws.receive()).data)  # delivered on connect, never acked
        assert ding.awaiting_ack() == [ding.frame_id(msg_id)]
        assert json.loads(frame["data"])["msgId"] == msg_id
        assert frame["type"] == "CALLBACK" and frame["headers"]["topic"] == ROBOT_TOPIC
        await asyncio.sleep(0.2)
        assert ding.unacked() == [ding.frame_id(msg_id)]


# -- refusals, each with DingTalk's status and code -----------------------------------------


async def test_access_token_refuses_bad_credentials(http: httpx.AsyncClient) -> None:
    bad = await http.post(
        "/v1.0/oauth2/accessToken", json={"appKey": "ding-test-id", "appSecret": "wrong"}
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalidClientIdOrSecret")
    good = await http.post(
        "/v1.0/oauth2/accessToken",
        json={"appKey": "ding-test-id", "appSecret": "ding-test-secret"},
    )
    assert good.json()["expireIn"] == 7200


async def test_connections_open_refuses_bad_credentials(http: httpx.AsyncClient) -> None:
    bad = await http.post(
        "/v1.0/gateway/connections/open",
        json={"clientId": "ding-test-id", "clientSecret": "wrong", "subscriptions": []},
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalidClientIdOrSecret")


@pytest.mark.parametrize("token", [None, "forged"])
async def test_v1_calls_refuse_a_missing_or_unknown_token(
    ding: DingTalkStandIn, http: httpx.AsyncClient, token: str | None
) -> None:
    headers = {"x-acs-dingtalk-access-token": token} if token else {}
    answer = await _batch(http, headers, "sampleText", {"content": "hi"}, [USER])
    assert (answer.status_code, answer.json()["code"]) == (401, "InvalidAuthentication")
    assert ding.sent == [] and ding.rejected[-1].endpoint == "batchSend"


async def test_tokens_expire_after_7200_seconds_and_on_demand(
    ding: DingTalkStandIn, http: httpx.AsyncClient, clock: _Clock
) -> None:
    headers = await _authed(http)
    ok = await _batch(http, headers, "sampleText", {"content": "hi"}, [USER])
    assert ok.status_code == 200
    clock.now += TOKEN_TTL + 1
    late = await _batch(http, headers, "sampleText", {"content": "hi"}, [USER])
    assert (late.status_code, late.json()["code"]) == (401, "InvalidAuthentication")
    headers = await _authed(http)
    ding.expire_tokens()
    forced = await _batch(http, headers, "sampleText", {"content": "hi"}, [USER])
    assert forced.status_code == 401
    assert ding.texts_to(USER) == ["hi"]


async def test_a_ticket_opens_one_connection_only(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    opened = await http.post(
        "/v1.0/gateway/connections/open",
        json={
            "clientId": "ding-test-id",
            "clientSecret": "ding-test-secret",
            "subscriptions": [{"type": "CALLBACK", "topic": ROBOT_TOPIC}],
        },
    )
    endpoint, ticket = opened.json()["endpoint"], opened.json()["ticket"]
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(endpoint, params={"ticket": ticket}):
            assert ding.connected
        for forged in (ticket, "forged"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(endpoint, params={"ticket": forged})
            assert refused.value.status == 401
    assert ding.connections == 1


@pytest.mark.parametrize(
    ("key", "param"),
    [
        ("sampleText", {"content": "字" * 5001}),
        ("sampleMarkdown", {"title": "t", "text": "字" * 5001}),
    ],
)
async def test_batch_send_refuses_over_5000_characters(
    ding: DingTalkStandIn, http: httpx.AsyncClient, key: str, param: dict[str, str]
) -> None:
    headers = await _authed(http)
    answer = await _batch(http, headers, key, param, [USER])
    assert (answer.status_code, answer.json()["code"]) == (400, "param.tooLong")
    fits = {name: value[:5000] for name, value in param.items()}
    assert (await _batch(http, headers, key, fits, [USER])).status_code == 200
    assert len(ding.texts_to(USER)) == 1


async def test_batch_send_lists_users_outside_the_organisation(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    answer = await _batch(
        http, await _authed(http), "sampleText", {"content": "催报"}, [USER, "stranger"]
    )
    assert answer.status_code == 200
    assert answer.json()["invalidStaffIdList"] == ["stranger"]
    assert [(s.kind, s.user_id) for s in ding.sent if s.kind == "otm"] == [("otm", USER)]
    assert ding.texts_to("stranger") == []
    assert ding.calls["batchSend"] == 1


async def test_cards_refuse_unknown_users_and_unknown_updates(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    headers = await _authed(http)
    stranger = await _send_card(http, headers, "card-x", user="stranger")
    assert (stranger.status_code, stranger.json()["code"]) == (400, "staffId.notExisted")
    update = await http.put(
        "/v1.0/im/robots/interactiveCards",
        headers=headers,
        json={"cardBizId": "never-sent", "cardData": _card()},
    )
    assert (update.status_code, update.json()["code"]) == (400, "card.notExist")
    assert ding.cards == {}


async def test_cards_are_kept_as_the_user_sees_them(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    headers = await _authed(http)
    assert (await _send_card(http, headers, "card-1")).status_code == 200
    assert ding.buttons_of("card-1") == [[("通过", "ok:1")], [("退回", "back:1")]]
    long_id = await http.put(
        "/v1.0/im/robots/interactiveCards",
        headers=headers,
        json={"cardBizId": "card-1", "cardData": _card("x", [("长", "x" * 65)])},
    )
    assert (long_id.status_code, long_id.json()["code"]) == (400, "param.tooLong")
    updated = await http.put(
        "/v1.0/im/robots/interactiveCards",
        headers=headers,
        json={"cardBizId": "card-1", "cardData": _card("已通过", [])},
    )
    assert updated.json() == {"success": True, "result": True}
    card = ding.last_card_to(USER)
    assert card is not None and card.updates == 1 and card.buttons() == []
    assert ding.texts_to(USER) == ["报送\n请审核", "报送\n已通过"]
    with pytest.raises(AssertionError):
        await ding.press(USER, "card-1", "ok:1")  # no longer shown


async def test_upload_refuses_over_20_mb_and_files_arrive(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    token = await _token(http)
    big = await http.post(
        f"/media/upload?access_token={token}",
        data={"type": "file"},
        files={"media": ("big.xlsx", b"x" * (MAX_MEDIA_BYTES + 1))},
    )
    assert (big.status_code, big.json()["errcode"]) == (200, 40006)
    ok = await http.post(
        f"/media/upload?access_token={token}",
        data={"type": "file"},
        files={"media": ("报表.xlsx", b"PK\x03\x04sheet")},
    )
    assert ok.json()["errcode"] == 0 and ok.json()["media_id"].startswith("@lA")
    forged = await http.post(
        "/media/upload?access_token=forged",
        data={"type": "file"},
        files={"media": ("a.txt", b"a")},
    )
    assert forged.json()["errcode"] == 40014
    param = {"mediaId": ok.json()["media_id"], "fileName": "报表.xlsx", "fileType": "xlsx"}
    sent = await _batch(http, {"x-acs-dingtalk-access-token": token}, "sampleFile", param, [USER])
    assert sent.status_code == 200
    assert ding.files_to(USER) == [("报表.xlsx", b"PK\x03\x04sheet")]
    assert ding.calls["upload"] == 3


async def test_images_arrive_from_uploaded_media(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    token = await _token(http)
    upload = await http.post(
        f"/media/upload?access_token={token}",
        data={"type": "image"},
        files={"media": ("chart.png", b"\x89PNG chart")},
    )
    param = {"photoURL": upload.json()["media_id"]}
    headers = {"x-acs-dingtalk-access-token": token}
    assert (await _batch(http, headers, "sampleImageMsg", param, [USER])).status_code == 200
    assert ding.images_to(USER) == [b"\x89PNG chart"]


async def test_session_webhook_refuses_unknown_and_expired_sessions(
    ding: DingTalkStandIn, http: httpx.AsyncClient, clock: _Clock
) -> None:
    msg_id = await ding.send_text(USER, "hi")  # queued (nobody connected): the session exists
    webhook = ding.messages[msg_id]["sessionWebhook"]
    ok = await http.post(webhook, json={"msgtype": "text", "text": {"content": "收到"}})
    assert ok.json() == {"errcode": 0, "errmsg": "ok"}
    long = await http.post(webhook, json={"msgtype": "text", "text": {"content": "字" * 5001}})
    assert long.json()["errcode"] == 34016
    unknown = await http.post(
        "/robot/sendBySession?session=forged", json={"msgtype": "text", "text": {"content": "x"}}
    )
    assert unknown.json()["errcode"] == 300001
    clock.now += SESSION_TTL + 1
    late = await http.post(
        webhook, json={"msgtype": "markdown", "markdown": {"title": "t", "text": "迟了"}}
    )
    assert (late.status_code, late.json()["errcode"]) == (200, 300001)
    assert ding.texts_to(USER) == ["收到"]
    assert ding.calls["webhook"] == 4


async def test_download_refuses_a_bad_code_and_serves_a_good_one(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    headers = await _authed(http)
    msg_id = await ding.send_file(USER, b"%PDF-1.7 report", "报告.pdf")
    content = ding.messages[msg_id]["content"]
    assert content["fileName"] == "报告.pdf"
    bad = await http.post(
        "/v1.0/robot/messageFiles/download",
        headers=headers,
        json={"downloadCode": "forged", "robotCode": "ding-test-id"},
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalidParameter.downloadCode")
    good = await http.post(
        "/v1.0/robot/messageFiles/download",
        headers=headers,
        json={"downloadCode": content["downloadCode"], "robotCode": "ding-test-id"},
    )
    assert (await http.get(good.json()["downloadUrl"])).content == b"%PDF-1.7 report"
    assert [s.kind for s in ding.sent] == ["token", "download"]


async def test_getuserinfo_takes_a_code_once_within_5_minutes(
    ding: DingTalkStandIn, http: httpx.AsyncClient, clock: _Clock
) -> None:
    token = await _token(http)
    url = f"/topapi/v2/user/getuserinfo?access_token={token}"
    code = ding.issue_auth_code(USER)
    first = await http.post(url, json={"code": code})
    assert first.json()["errcode"] == 0
    assert first.json()["result"]["userid"] == USER
    again = await http.post(url, json={"code": code})
    assert again.json() == {"errcode": 40078, "errmsg": "不存在的临时授权码", **_rid(again)}
    forged = await http.post(url, json={"code": "forged"})
    assert forged.json()["errcode"] == 40078
    stale = ding.issue_auth_code(USER)
    clock.now += AUTH_CODE_TTL + 1
    token = await _token(http)  # the old one aged too
    late = await http.post(
        f"/topapi/v2/user/getuserinfo?access_token={token}", json={"code": stale}
    )
    assert late.json()["errcode"] == 40078


def _rid(answer: httpx.Response) -> dict[str, str]:
    return {"request_id": answer.json()["request_id"]}


async def test_fail_next_injects_transient_failures(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    ding.fail_next("accessToken", status=503, times=2)
    credentials = {"appKey": "ding-test-id", "appSecret": "ding-test-secret"}
    statuses = [
        (await http.post("/v1.0/oauth2/accessToken", json=credentials)).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 200]
    assert ding.calls["accessToken"] == 3


async def _open(http: httpx.AsyncClient) -> dict[str, str]:
    opened = await http.post(
        "/v1.0/gateway/connections/open",
        json={
            "clientId": "ding-test-id",
            "clientSecret": "ding-test-secret",
            "subscriptions": [{"type": "CALLBACK", "topic": ROBOT_TOPIC}],
        },
    )
    assert opened.status_code == 200, opened.text
    return {"endpoint": opened.json()["endpoint"], "ticket": opened.json()["ticket"]}


async def test_messages_go_round_robin_and_wait_out_a_dropped_socket(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    async with aiohttp.ClientSession() as session:
        first, second = [
            await session.ws_connect(c["endpoint"], params={"ticket": c["ticket"]})
            for c in [await _open(http), await _open(http)]
        ]
        ids = [await ding.send_text(USER, text) for text in ("一", "二")]
        got = [json.loads(json.loads((await ws.receive()).data)["data"]) for ws in (first, second)]
        assert sorted(m["msgId"] for m in got) == sorted(ids)  # one each, none twice
        await ding.drop_socket()
        assert (await first.receive()).type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        assert not ding.connected
        late = await ding.send_text(USER, "三")  # nobody there: held until a connection opens
        assert ding.queued == 1
        c = await _open(http)
        async with session.ws_connect(c["endpoint"], params={"ticket": c["ticket"]}) as third:
            frame = json.loads((await third.receive()).data)
            assert json.loads(frame["data"])["msgId"] == late
            ack = {
                "code": 200,
                "headers": {"messageId": frame["headers"]["messageId"]},
                "message": "OK",
                "data": "{}",
            }
            await third.send_str(json.dumps(ack))
            await ding.wait_acked(late)
        await second.close()
    assert ding.connections == 3 and ding.queued == 0


async def test_robot_calls_refuse_another_robot_code(
    ding: DingTalkStandIn, http: httpx.AsyncClient
) -> None:
    body = {
        "robotCode": "someone-else",
        "userIds": [USER],
        "msgKey": "sampleText",
        "msgParam": json.dumps({"content": "hi"}),
    }
    answer = await http.post(
        "/v1.0/robot/oToMessages/batchSend", headers=await _authed(http), json=body
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "robot.notExist")
    assert ding.texts_to(USER) == []
