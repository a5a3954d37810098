"""Garbage reminders by Web Push: the VAPID key, the service worker, subscribing and unsubscribing, staff counts.

What a browser sends is stored in the private schema (endpoint, keys, choices) through the staff pool; no public
response, page or log carries it. The holder removes it with the removal token returned once at subscription.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Rt, Staff, StaffConn, require_role
from gis.errors import ConfigurationError, GisError, InvalidParameter, Unauthorized
from gis.garbage import subscriptions, vapid
from gis.maps.assets import STATIC_DIR
from gis.settings import Settings


def _whole_body(loc: tuple) -> bool:
    # ("body",): missing or not an object; ("body", <offset>): not JSON.
    return loc == ("body",) or (len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int))


class NamedBody(APIRoute):
    """A body that is not a JSON object at all is refused naming `body` (the shared handler drops that location)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, with whole-body validation errors turned into one that names the body."""
        handler = super().get_route_handler()

        async def named(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as e:
                if any(_whole_body(tuple(err.get("loc", ()))) for err in e.errors()):
                    raise InvalidParameter("body: send a JSON object (Content-Type: application/json)") from None
                raise

        return named


router = APIRouter(tags=["garbage"], route_class=NamedBody)
log = logging.getLogger("gis.api.garbage_push")
Editor = Annotated[Staff, Depends(require_role("admin", "editor"))]
SERVICE_WORKER = STATIC_DIR / "map" / "garbage-sw.js"
PRIVATE = {"Cache-Control": "no-store"}


class PushKeys(BaseModel):
    """The keys of a PushSubscription (`subscription.toJSON().keys`)."""

    p256dh: str = Field(min_length=1, max_length=200, description="the browser's P-256 public key, base64url")
    auth: str = Field(min_length=1, max_length=100, description="the 16-byte authentication secret, base64url")


class PushSubscriptionIn(BaseModel):
    """What `PushSubscription.toJSON()` gives."""

    endpoint: str = Field(min_length=1, max_length=subscriptions.MAX_ENDPOINT, description="the push service URL")
    expirationTime: float | None = Field(None, description="ignored")  # noqa: N815 (the browser's spelling)
    keys: PushKeys


class SubscribeIn(BaseModel):
    """A reminder subscription: which group, which categories (none: all) and at what hour the evening before."""

    model_config = ConfigDict(extra="forbid")
    subscription: PushSubscriptionIn
    group_id: str = Field(min_length=1, max_length=100, description="garbage group (地区), e.g. 41205-A")
    categories: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=subscriptions.MAX_CATEGORIES, description="categories to be told; [] = all"
    )
    remind_hour: int = Field(19, ge=12, le=23, strict=True, description="JST hour of the evening before, 12-23")


class RemovalIn(BaseModel):
    """The removal token in the body, for clients that cannot set the Authorization header."""

    model_config = ConfigDict(extra="forbid")
    removal_token: str = Field(min_length=1, max_length=200)


def _settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


@router.get(
    "/garbage/push/key",
    summary="The application server key for pushManager.subscribe (VAPID, base64url)",
    responses={503: {"description": "the server has no usable VAPID key"}},
)
async def push_key(request: Request) -> JSONResponse:
    """The VAPID public key as an uncompressed P-256 point, base64url: `applicationServerKey` in the browser."""
    try:
        key = await asyncio.to_thread(vapid.public_key, _settings(request))
    except ConfigurationError as e:
        log.error("web push: %s", e.description)  # names a server path: for staff, not for the client
        raise GisError("reminders are not available on this server", code="PushUnavailable", status=503) from None
    return JSONResponse({"public_key": key}, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/garbage/sw.js", summary="The reminder service worker", response_class=Response)
async def service_worker() -> FileResponse:
    """The service worker that shows the reminders; may control any scope of this service."""
    return FileResponse(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


@router.post(
    "/garbage/subscriptions",
    status_code=201,
    summary="Subscribe a browser to the evening-before reminders of a garbage group",
    responses={
        200: {"description": "the endpoint was already subscribed: updated"},
        404: {"description": "no such group"},
    },
)
async def subscribe(request: Request, rt: Rt, body: SubscribeIn) -> JSONResponse:
    """Store the push endpoint and keys (private); answer the id and the removal token (given only this once)."""
    sub = subscriptions.check(
        body.subscription.endpoint,
        body.subscription.keys.p256dh,
        body.subscription.keys.auth,
        body.group_id,
        body.categories,
        body.remind_hour,
        _settings(request),
    )
    async with rt.staff_conn() as conn, conn.transaction():
        saved, created = await subscriptions.save(conn, sub)
    return JSONResponse(saved, status_code=201 if created else 200, headers=PRIVATE)


@router.delete(
    "/garbage/subscriptions/{subscription_id}",
    status_code=204,
    summary="Unsubscribe with the removal token (Authorization: Bearer <removal_token>)",
    responses={401: {"description": "no removal token given"}},
)
async def unsubscribe(
    request: Request,
    rt: Rt,
    subscription_id: Annotated[int, Path(description="the id answered at subscription", ge=1, le=2**31 - 1)],
    body: Annotated[RemovalIn | None, Body()] = None,
) -> Response:
    """Delete the subscription; a wrong id and a wrong token get the same 404."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or (body.removal_token if body else "")
    if not token:
        raise Unauthorized("give the removal token: Authorization: Bearer <removal_token>")
    async with rt.staff_conn() as conn:
        await subscriptions.remove(conn, subscription_id, token)
    return Response(status_code=204, headers=PRIVATE)


@router.get("/admin/garbage/subscriptions", summary="Reminder subscriptions counted per group, category and hour")
async def subscription_counts(staff: Editor, conn: StaffConn) -> JSONResponse:
    """Staff KPI: how many subscriptions, by group, chosen category and hour; never an endpoint or a key."""
    body = await subscriptions.counts(conn)
    return JSONResponse(body, headers=PRIVATE)
