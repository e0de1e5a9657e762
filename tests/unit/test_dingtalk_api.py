"""channels.dingtalk.api against httpx.MockTransport: the exact request shapes of every call,
the token cache and its refresh after a 401, each error's mapping, the local limits, the two
rate lanes (on a fake clock: the order of the calls is checked, never their timing)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from channels.dingtalk.api import MAX_MEDIA, DingTalkApi, DingTalkError, RateLanes
from core.settings import Settings, load_settings

API = "https://api.example"
OAPI = "https://oapi.example"
SECRET = "s3cret-app-secret"
TEXT = "机密的内容 secret words"

Handler = Callable[[httpx.Request], httpx.Response]
SENT = {"processQueryKey": "q", "invalidStaffIdList": [], "flowControlledStaffIdList": []}
BAD_TOKEN = {"errcode": 40014, "errmsg": "不合法的access_token"}


class FakeTime:
    """A clock that moves only when the rate lanes sleep; ``gate`` holds those sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.gate = asyncio.Event()
        self.gate.set()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await self.gate.wait()
        self.now += seconds
        await asyncio.sleep(0)


class FakeDingTalk:
    """Answers like DingTalk and records every request. ``routes`` override answers by
    ``"METHOD url-path"``; the token is ``tok1``, ``tok2``… (one more per accessToken call)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.tokens = 0
        self.routes: dict[str, Handler] = {}

    @property
    def token(self) -> str:
        return f"tok{self.tokens}"

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = f"{request.method} {request.url.path}"
        if key in self.routes:
            return self.routes[key](request)
        if key == "POST /v1.0/oauth2/accessToken":
            self.tokens += 1
            return httpx.Response(200, json={"accessToken": self.token, "expireIn": 7200})
        token = request.headers.get("x-acs-dingtalk-access-token")
        if request.url.host == "api.example" and token != self.token:
            return httpx.Response(401, json={"code": "InvalidAuthentication", "message": "x"})
        if key == "POST /v1.0/robot/oToMessages/batchSend":
            return httpx.Response(200, json=SENT)
        if key == "POST /v1.0/im/v1.0/robot/interactiveCards/send":
            return httpx.Response(200, json={"processQueryKey": "q"})
        if key == "PUT /v1.0/im/robots/interactiveCards":
            return httpx.Response(200, json={"success": True})
        if key == "POST /v1.0/robot/messageFiles/download":
            return httpx.Response(200, json={"downloadUrl": "https://files.example/f/1?sig=abc"})
        if key == "GET /f/1":
            return httpx.Response(200, content=b"%PDF-1.4 hello")
        if key == "POST /robot/sendBySession":
            return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})
        if key == "POST /media/upload":
            if request.url.params.get("access_token") != self.token:
                return httpx.Response(200, json=BAD_TOKEN)
            return httpx.Response(200, json={"errcode": 0, "media_id": "@lAmedia"})
        if key == "POST /topapi/v2/user/getuserinfo":
            if request.url.params.get("access_token") != self.token:
                return httpx.Response(200, json=BAD_TOKEN)
            if json.loads(request.content)["code"] == "good":
                return httpx.Response(200, json={"errcode": 0, "result": {"userid": "u1"}})
            return httpx.Response(200, json={"errcode": 40078, "errmsg": "不存在的临时授权码"})
        return httpx.Response(404, json={"code": "notFound"})

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def last(self, path: str) -> httpx.Request:
        return [request for request in self.requests if request.url.path == path][-1]


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        dingtalk_client_id="ding-app",
        dingtalk_client_secret=SECRET,
        dingtalk_robot_code="robot-1",
        dingtalk_api_url=API,
        dingtalk_oapi_url=OAPI,
        **overrides,
    )


@pytest.fixture
def fake() -> FakeDingTalk:
    return FakeDingTalk()


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def api(tmp_path: Path, fake: FakeDingTalk, time: FakeTime) -> AsyncIterator[DingTalkApi]:
    client = DingTalkApi(
        settings_for(tmp_path),
        transport=httpx.MockTransport(fake.handle),
        clock=time.clock,
        sleep=time.sleep,
    )
    yield client
    await client.aclose()


def body(request: httpx.Request) -> dict[str, Any]:
    return dict(json.loads(request.content))


# --- request shapes ----------------------------------------------------------------------------


async def test_token_is_fetched_once_with_the_app_credentials(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    await api.send_markdown("u1", "标题", "**正文**")
    await api.send_markdown("u2", "标题", "正文")
    assert fake.paths().count("/v1.0/oauth2/accessToken") == 1
    request = fake.last("/v1.0/oauth2/accessToken")
    assert request.method == "POST"
    assert str(request.url) == f"{API}/v1.0/oauth2/accessToken"
    assert body(request) == {"appKey": "ding-app", "appSecret": SECRET}


async def test_batch_send_markdown_shape(api: DingTalkApi, fake: FakeDingTalk) -> None:
    await api.send_markdown("u1", "标题", "**正文**")
    request = fake.last("/v1.0/robot/oToMessages/batchSend")
    assert str(request.url) == f"{API}/v1.0/robot/oToMessages/batchSend"
    assert request.headers["x-acs-dingtalk-access-token"] == "tok1"
    sent = body(request)
    assert sent["robotCode"] == "robot-1"
    assert sent["userIds"] == ["u1"]
    assert sent["msgKey"] == "sampleMarkdown"
    assert json.loads(sent["msgParam"]) == {"title": "标题", "text": "**正文**"}
    assert api.calls == {"accessToken": 1, "batchSend": 1}


async def test_image_and_file_messages(api: DingTalkApi, fake: FakeDingTalk) -> None:
    await api.send_image("u1", "@lAimg")
    image = body(fake.last("/v1.0/robot/oToMessages/batchSend"))
    assert image["msgKey"] == "sampleImageMsg"
    assert json.loads(image["msgParam"]) == {"photoURL": "@lAimg"}
    await api.send_file("u1", "@lAfile", "2026年报送.XLSX")
    file = body(fake.last("/v1.0/robot/oToMessages/batchSend"))
    assert file["msgKey"] == "sampleFile"
    assert json.loads(file["msgParam"]) == {
        "mediaId": "@lAfile",
        "fileName": "2026年报送.XLSX",
        "fileType": "xlsx",
    }


async def test_card_send_and_update(api: DingTalkApi, fake: FakeDingTalk) -> None:
    data = {"header": {"title": {"type": "text", "text": "审核"}}, "contents": []}
    await api.send_card("u1", "card-7", data, urgent=True)
    sent = fake.last("/v1.0/im/v1.0/robot/interactiveCards/send")
    assert sent.method == "POST"
    assert sent.headers["x-acs-dingtalk-access-token"] == "tok1"
    assert body(sent) == {
        "cardTemplateId": "StandardCard",
        "singleChatReceiver": json.dumps({"userId": "u1"}),
        "cardBizId": "card-7",
        "robotCode": "robot-1",
        "cardData": json.dumps(data, ensure_ascii=False),
    }
    await api.update_card("card-7", data)
    update = fake.last("/v1.0/im/robots/interactiveCards")
    assert update.method == "PUT"
    assert body(update) == {"cardBizId": "card-7", "cardData": json.dumps(data, ensure_ascii=False)}
    assert api.calls["cardSend"] == 1 and api.calls["cardUpdate"] == 1


async def test_update_of_an_unknown_card_is_gone(api: DingTalkApi, fake: FakeDingTalk) -> None:
    fake.routes["PUT /v1.0/im/robots/interactiveCards"] = lambda r: httpx.Response(
        400, json={"code": "card.notExist", "message": "card not exist"}
    )
    with pytest.raises(DingTalkError) as caught:
        await api.update_card("nope", {})
    assert caught.value.gone and not caught.value.transient
    assert "400" in str(caught.value) and "card.notExist" in str(caught.value)


async def test_webhook_reply_needs_no_token_and_is_not_metered(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    url = "https://hook.example/robot/sendBySession?session=abc"
    await api.reply_webhook(url, "标题", "正文", urgent=True)
    request = fake.last("/robot/sendBySession")
    assert str(request.url) == url
    assert "x-acs-dingtalk-access-token" not in request.headers
    assert body(request) == {"msgtype": "markdown", "markdown": {"title": "标题", "text": "正文"}}
    assert api.calls == {"webhook": 1}


async def test_refused_webhook_is_an_error_without_the_url(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    fake.routes["POST /robot/sendBySession"] = lambda r: httpx.Response(
        200, json={"errcode": 300001, "errmsg": "session expired"}
    )
    with pytest.raises(DingTalkError) as caught:
        await api.reply_webhook("https://hook.example/robot/sendBySession?session=abc", "t", TEXT)
    assert caught.value.gone
    assert "300001" in str(caught.value)
    assert "session=abc" not in str(caught.value) and TEXT not in str(caught.value)


async def test_upload_is_multipart_with_the_token_in_the_query(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    media_id = await api.upload(b"PK\x03\x04data", "汇总.xlsx", "file")
    assert media_id == "@lAmedia"
    request = fake.last("/media/upload")
    assert request.method == "POST"
    assert request.url.host == "oapi.example"
    assert request.url.params["access_token"] == "tok1"
    assert request.headers["content-type"].startswith("multipart/form-data")
    content = request.content
    assert b'name="type"\r\n\r\nfile' in content
    assert b'name="media"; filename=' in content and b"PK\x03\x04data" in content
    assert api.calls == {"accessToken": 1, "upload": 1}


async def test_upload_over_20_mb_is_refused_before_any_call(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    with pytest.raises(DingTalkError) as caught:
        await api.upload(b"x" * (MAX_MEDIA + 1), "big.pdf", "file")
    assert caught.value.too_big
    assert fake.requests == [] and api.calls == {}


async def test_download_takes_two_steps_and_gives_no_token_to_the_file_store(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    data = await api.download("dl-code", limit=1000)
    assert data == b"%PDF-1.4 hello"
    step = fake.last("/v1.0/robot/messageFiles/download")
    assert body(step) == {"downloadCode": "dl-code", "robotCode": "robot-1"}
    assert step.headers["x-acs-dingtalk-access-token"] == "tok1"
    file = fake.last("/f/1")
    assert file.method == "GET" and file.url.params["sig"] == "abc"
    assert "x-acs-dingtalk-access-token" not in file.headers
    assert api.calls == {"accessToken": 1, "download": 1}


async def test_download_refuses_an_announced_size_over_the_limit(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    fake.routes["GET /f/1"] = lambda r: httpx.Response(
        200, content=b"x" * 2000, headers={"content-length": "2000"}
    )
    with pytest.raises(DingTalkError) as caught:
        await api.download("dl-code", limit=1000)
    assert caught.value.too_big


async def test_download_stops_past_the_limit_when_no_size_is_announced(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    served: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            served.append(1)
            yield b"x" * 100

    fake.routes["GET /f/1"] = lambda r: httpx.Response(200, content=chunks())
    with pytest.raises(DingTalkError) as caught:
        await api.download("dl-code", limit=250)
    assert caught.value.too_big
    assert len(served) < 10  # it stopped reading, not read it all and then refused
    assert await api.download("dl-code", limit=10_000) == b"x" * 10_000


async def test_user_of_code(api: DingTalkApi, fake: FakeDingTalk) -> None:
    assert await api.user_of_code("good") == "u1"
    request = fake.last("/topapi/v2/user/getuserinfo")
    assert str(request.url).startswith(f"{OAPI}/topapi/v2/user/getuserinfo?")
    assert request.url.params["access_token"] == "tok1"
    assert body(request) == {"code": "good"}
    assert await api.user_of_code("forged") is None
    assert api.calls == {"accessToken": 1, "userinfo": 2}


# --- the token ----------------------------------------------------------------------------------


async def test_token_is_fetched_anew_five_minutes_before_it_expires(
    api: DingTalkApi, fake: FakeDingTalk, time: FakeTime
) -> None:
    await api.send_markdown("u1", "t", "x")
    time.now += 7200 - 300 - 1
    await api.send_markdown("u1", "t", "x")
    assert fake.tokens == 1
    time.now += 2
    await api.send_markdown("u1", "t", "x")
    assert fake.tokens == 2
    assert fake.last("/v1.0/robot/oToMessages/batchSend").headers[
        "x-acs-dingtalk-access-token"
    ] == "tok2"  # fmt: skip


async def test_a_401_fetches_a_new_token_and_retries_once(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    await api.send_markdown("u1", "t", "x")
    fake.tokens += 1  # DingTalk revoked tok1: the cached token is now refused
    await api.send_markdown("u1", "t", "x")
    assert fake.paths()[-3:] == [
        "/v1.0/robot/oToMessages/batchSend",
        "/v1.0/oauth2/accessToken",
        "/v1.0/robot/oToMessages/batchSend",
    ]
    assert api.calls == {"accessToken": 2, "batchSend": 3}


async def test_a_second_401_is_an_error(api: DingTalkApi, fake: FakeDingTalk) -> None:
    fake.routes["POST /v1.0/robot/oToMessages/batchSend"] = lambda r: httpx.Response(
        401, json={"code": "InvalidAuthentication", "message": "bad token"}
    )
    with pytest.raises(DingTalkError) as caught:
        await api.send_markdown("u1", "t", TEXT)
    assert caught.value.status == 401 and not caught.value.transient
    assert api.calls == {"accessToken": 2, "batchSend": 2}
    for secret in ("tok1", "tok2", SECRET, TEXT):
        assert secret not in str(caught.value)


async def test_an_old_api_token_error_refreshes_too(api: DingTalkApi, fake: FakeDingTalk) -> None:
    await api.access_token()
    fake.tokens += 1  # tok1 revoked: the old API answers errcode 40014 (HTTP 200)
    assert await api.upload(b"png", "a.png", "image") == "@lAmedia"
    tokens = [r.url.params["access_token"] for r in fake.requests if r.url.path == "/media/upload"]
    assert tokens == ["tok1", "tok3"]
    assert api.calls == {"accessToken": 2, "upload": 2}


async def test_concurrent_callers_share_one_token_fetch(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    await asyncio.gather(*(api.send_markdown(f"u{i}", "t", "x") for i in range(5)))
    assert fake.paths().count("/v1.0/oauth2/accessToken") == 1


async def test_bad_credentials_are_a_lasting_error(api: DingTalkApi, fake: FakeDingTalk) -> None:
    fake.routes["POST /v1.0/oauth2/accessToken"] = lambda r: httpx.Response(
        400, json={"code": "invalidClientIdOrSecret", "message": "bad"}
    )
    with pytest.raises(DingTalkError) as caught:
        await api.send_markdown("u1", "t", "x")
    assert not caught.value.transient
    assert "invalidClientIdOrSecret" in str(caught.value) and SECRET not in str(caught.value)


# --- errors -------------------------------------------------------------------------------------


def answer(status: int, payload: dict[str, Any]) -> Handler:
    return lambda request: httpx.Response(status, json=payload)


def raises(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("handler", "transient", "code"),
    [
        (answer(500, {"code": "ServiceUnavailable"}), True, "ServiceUnavailable"),
        (answer(503, {}), True, None),
        (answer(429, {"code": "Throttling"}), True, "Throttling"),
        (answer(403, {"code": "Forbidden.AccessDenied.QpsLimitForApi"}), True, "QpsLimit"),
        (answer(400, {"code": "param.invalid", "message": "robotCode"}), False, "param.invalid"),
        (answer(403, {"code": "Forbidden.AccessDenied.NoPermission"}), False, "NoPermission"),
        (raises(httpx.ConnectTimeout("timed out to https://x?access_token=tok1")), True, None),
        (raises(httpx.ConnectError("refused https://x?access_token=tok1")), True, None),
        (raises(httpx.ReadTimeout("read")), True, None),
    ],
)  # fmt: skip
async def test_error_mapping(
    api: DingTalkApi, fake: FakeDingTalk, handler: Handler, transient: bool, code: str | None
) -> None:
    fake.routes["POST /v1.0/robot/oToMessages/batchSend"] = handler
    with pytest.raises(DingTalkError) as caught:
        await api.send_markdown("u1", "标题", TEXT)
    error = caught.value
    assert error.transient is transient
    assert not (error.unreachable or error.gone or error.too_big)
    assert str(error).startswith("batchSend")
    if code is not None:
        assert code in str(error)
    if error.status is not None:
        assert f"HTTP {error.status}" in str(error)
    for secret in ("tok1", SECRET, TEXT, "标题"):
        assert secret not in str(error)


async def test_unreachable_user(api: DingTalkApi, fake: FakeDingTalk) -> None:
    fake.routes["POST /v1.0/robot/oToMessages/batchSend"] = answer(
        200, {"processQueryKey": "q", "invalidStaffIdList": ["u9"], "flowControlledStaffIdList": []}
    )
    with pytest.raises(DingTalkError) as caught:
        await api.send_markdown("u9", "t", "x")
    assert caught.value.unreachable and not caught.value.transient


async def test_flow_controlled_user_is_transient(api: DingTalkApi, fake: FakeDingTalk) -> None:
    fake.routes["POST /v1.0/robot/oToMessages/batchSend"] = answer(
        200, {"processQueryKey": "q", "invalidStaffIdList": [], "flowControlledStaffIdList": ["u9"]}
    )
    with pytest.raises(DingTalkError) as caught:
        await api.send_markdown("u9", "t", "x")
    assert caught.value.transient and not caught.value.unreachable


async def test_upload_refused_by_dingtalk(api: DingTalkApi, fake: FakeDingTalk) -> None:
    fake.routes["POST /media/upload"] = answer(200, {"errcode": 40006, "errmsg": "size"})
    with pytest.raises(DingTalkError) as caught:
        await api.upload(b"x", "a.pdf", "file")
    assert "40006" in str(caught.value) and not caught.value.transient


async def test_a_transient_userinfo_failure_is_not_a_refused_code(
    api: DingTalkApi, fake: FakeDingTalk
) -> None:
    fake.routes["POST /topapi/v2/user/getuserinfo"] = answer(502, {})
    with pytest.raises(DingTalkError) as caught:
        await api.user_of_code("good")
    assert caught.value.transient


# --- the rate lanes -----------------------------------------------------------------------------


async def test_urgent_calls_go_before_queued_ones(
    tmp_path: Path, fake: FakeDingTalk, time: FakeTime
) -> None:
    api = DingTalkApi(
        settings_for(tmp_path, dingtalk_rate=2.0),
        transport=httpx.MockTransport(fake.handle),
        clock=time.clock,
        sleep=time.sleep,
    )
    try:
        await api.access_token()  # spends the bucket's token: everything after waits its turn
        time.gate.clear()
        queued = [asyncio.create_task(api.send_markdown(f"q{i}", "t", "x")) for i in range(3)]
        for _ in range(5):
            await asyncio.sleep(0)
        urgent = asyncio.create_task(api.send_markdown("urgent", "t", "x", urgent=True))
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(fake.requests) == 1  # nobody went past the lanes yet
        time.gate.set()
        await asyncio.gather(*queued, urgent)
        sent = [body(r)["userIds"][0] for r in fake.requests if r.url.path.endswith("batchSend")]
        assert sent == ["urgent", "q0", "q1", "q2"]
        assert time.now == pytest.approx(1000.0 + 4 / 2.0)  # one token every half second
    finally:
        await api.aclose()


async def test_a_caller_that_gives_up_spends_no_turn(time: FakeTime) -> None:
    lanes = RateLanes(1.0, clock=time.clock, sleep=time.sleep)
    await lanes.acquire()  # the bucket is empty now
    time.gate.clear()
    order: list[str] = []

    async def take(name: str, urgent: bool = False) -> None:
        await lanes.acquire(urgent=urgent)
        order.append(name)

    quitter = asyncio.create_task(take("quitter", urgent=True))
    stayer = asyncio.create_task(take("stayer"))
    for _ in range(3):
        await asyncio.sleep(0)
    quitter.cancel()
    time.gate.set()
    await stayer
    assert order == ["stayer"]
    assert time.now == pytest.approx(1001.0)  # one second for one token, not two
    await lanes.aclose()
