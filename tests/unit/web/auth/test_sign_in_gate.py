import json

import pytest

from web.auth.sign_in_gate import GateFull, RefuseWhenFull, SignInGate


def call(app, path="/signin", method="POST", accept="text/html"):
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": method, "HTTP_ACCEPT": accept}, start_response))
    return seen["status"], seen["headers"], body


def test_past_the_bound_a_sign_in_is_refused_before_the_app_with_retry_after():
    gate, reached = SignInGate(2), []

    def app(environ, start_response):
        reached.append(gate.in_flight)
        start_response("401 UNAUTHORIZED", [])
        return [b""]

    wrapped = RefuseWhenFull(app, gate)
    # The middleware takes no place: the view takes one for the password check alone.
    assert call(wrapped)[0].startswith("401") and reached == [0]
    with gate.admitted(), gate.admitted():
        status, headers, body = call(wrapped, accept="application/json")
        assert status.startswith("429") and headers["Retry-After"] == "1"
        assert json.loads(body)["error"]["code"] == "too_many_sign_ins"
        status, headers, body = call(wrapped)
        assert status.startswith("429") and b"Try again in a moment" in body
        assert headers["Content-Type"].startswith("text/html")
        assert call(wrapped, path="/healthz", method="GET")[0].startswith("401")  # other routes pass
    assert reached == [0, 2] and gate.in_flight == 0


def test_a_place_is_given_back_when_the_sign_in_fails():
    gate = SignInGate(1)
    with pytest.raises(RuntimeError), gate.admitted():
        raise RuntimeError
    with gate.admitted():
        with pytest.raises(GateFull), gate.admitted():
            pass
    assert gate.in_flight == 0
