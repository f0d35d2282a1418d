"""An ASGI wrapper that refuses request bodies above a cap (HTTP 413) before they are stored.

Shiny writes an upload to disk as it arrives; this stops one larger than the
workbook reader's cap (plus room for the form's framing) at the door.
"""

from __future__ import annotations

TOO_LARGE = 413
#: Room for multipart framing around the file itself.
FRAMING_BYTES = 64 * 1024


class BodyCap:
    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes + FRAMING_BYTES

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        try:
            announced = int(headers.get(b"content-length", b"0"))
        except ValueError:
            announced = 0
        if announced > self.max_bytes:
            return await self._refuse(send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        try:
            return await self.app(scope, counted, send)
        except _TooLarge:
            return await self._refuse(send)

    async def _refuse(self, send):
        body = b"the upload is larger than the workbook reader's cap"
        await send({"type": "http.response.start", "status": TOO_LARGE,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
