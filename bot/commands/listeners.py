"""The /profiles command and its buttons: parse, acknowledge at once, do the work in the pool.

No exception may escape a listener: Bolt can lose an acknowledgement that is followed by one.
"""

import logging
import re
import time
from dataclasses import dataclass

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.commands import render, state
from bot.commands.explain import explain
from bot.commands.parse import (
    AuditLog,
    CreateProfile,
    DeleteProfile,
    GetProfile,
    Help,
    ListProfiles,
    ParseError,
    RenameProfile,
    parse,
)
from bot.commands.text import display_name
from bot.permissions import Decision, Permissions
from bot.storage import Claim, Store
from bot.storage.store import Prompt
from bot.whatconverts import NotFound, Unavailable, WhatConverts, WhatConvertsError
from bot.work import Admission, WorkPool

logger = logging.getLogger(__name__)

BUSY = ":hourglass: The bot is busy with other requests. Try again in a minute."
WORKING = ":hourglass_flowing_sand: Working on it…"
BROKEN = ":warning: Something went wrong on our side and it has been logged. Please try again."
STALE = ":warning: That button is from an older message I can't read. Run the command again."
ANSWERED = "This delete prompt has already been answered."
WRITES = (CreateProfile, RenameProfile, DeleteProfile)
_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Caller:
    """Who typed or clicked, and where."""

    user: str
    channel: str


class ProfilesCommand:
    def __init__(self, client: WhatConverts, pool: WorkPool, store: Store,
                 permissions: Permissions, slack: WebClient, *, confirm_ttl: float,
                 announce: bool):
        self.client = client
        self.pool = pool
        self.store = store
        self.permissions = permissions
        self.slack = slack
        self.confirm_ttl = confirm_ttl
        self.announce = announce

    def register(self, app: App) -> None:
        app.command("/profiles")(self.on_command)
        app.action(re.compile(r"^profiles\.page\."))(self.on_page)
        app.action(re.compile(r"^profiles\.audit\."))(self.on_audit_page)
        app.action("profiles.delete.confirm")(self.on_confirm)
        app.action("profiles.delete.cancel")(self.on_cancel)

    # Listeners: each answers Slack within milliseconds.

    def on_command(self, ack: Ack, command: dict, respond: Respond) -> None:
        caller = Caller(_slack_id(command.get("user_id")), _slack_id(command.get("channel_id")))
        try:
            request = parse(command.get("text", ""))
        except ParseError as problem:
            logger.info("command refused: user=%s reason=parse", caller.user)
            ack(response_type="ephemeral", **render.note(str(problem)))
            return
        except Exception:
            logger.exception("command parse crashed: user=%s", caller.user)
            ack(response_type="ephemeral", **render.note(BROKEN))
            return

        if isinstance(request, Help):
            ack(response_type="ephemeral", **render.help_message(request.problem))
            return
        admission = self.pool.submit(self._answer_command, request, caller, respond)
        if admission is Admission.REFUSED:
            logger.warning("work pool full: refused %s for user=%s", _verb(request), caller.user)
            ack(response_type="ephemeral", **render.note(BUSY))
        elif admission is Admission.QUEUED:
            ack(response_type="ephemeral", **render.note(WORKING))
        else:
            ack()

    def on_page(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._answer_page, action, state.read_page_value)

    def on_audit_page(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._answer_page, action, state.read_audit_value)

    def on_confirm(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._confirm, action, state.read_prompt_id)

    def on_cancel(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._cancel, action, state.read_prompt_id)

    def _click(self, body: dict, respond: Respond, job, action: dict, read) -> None:
        channel = ((body.get("channel") or {}).get("id")
                   or (body.get("container") or {}).get("channel_id"))
        caller = Caller(_slack_id((body.get("user") or {}).get("id")), _slack_id(channel))
        try:
            value = read(action.get("value", ""))
        except state.StaleButton:
            logger.warning("stale button: action=%s user=%s", action.get("action_id"),
                           caller.user)
            _tell(respond, STALE)
            return
        if self.pool.submit(job, value, caller, respond) is Admission.REFUSED:
            logger.warning("work pool full: refused a click from user=%s", caller.user)
            _tell(respond, BUSY)

    # Work done in the pool

    def _answer_command(self, request, caller: Caller, respond: Respond) -> None:
        refusal = self._refusal(request, caller)
        if refusal:
            _send(respond, dict(response_type="ephemeral", **render.note(refusal)))
            return
        message = self._guarded(request, caller, lambda: self._command_message(request, caller))
        _send(respond, dict(response_type="ephemeral", **message))

    def _answer_page(self, request, caller: Caller, respond: Respond) -> None:
        refusal = self._refusal(request, caller)
        if refusal:
            _tell(respond, refusal)
            return
        message = self._guarded(request, caller, lambda: self._command_message(request, caller))
        _send(respond, dict(replace_original=True, **message))

    def _refusal(self, request, caller: Caller) -> str | None:
        """Why this caller may not do this here, recorded; None when they may."""
        account = getattr(request, "account", None)
        decision = (self.permissions.may_use_account(caller.channel, account)
                    if account is not None else Decision(True))
        if decision.allowed and isinstance(request, WRITES):
            decision = self.permissions.may_write(caller.user)
        if decision.allowed:
            return None

        logger.info("refused: verb=%s account=%s user=%s channel=%s", _verb(request), account,
                    caller.user, caller.channel)
        self._record(caller, _verb(request), "refused", account_id=account,
                     profile_id=getattr(request, "profile", None),
                     new_name=getattr(request, "name", None), detail=decision.reason)
        return f":no_entry: {decision.reason}"

    def _command_message(self, request, caller: Caller) -> dict:
        client = self.client
        if isinstance(request, ListProfiles):
            page = client.list_profiles(
                request.account, page=request.page, per_page=request.per_page,
                since=request.since, until=request.until, order=request.order,
            )
            return render.profile_page(request, page)
        if isinstance(request, GetProfile):
            profile = client.get_profile(request.account, request.profile)
            return render.profile_details(request.account, profile)
        if isinstance(request, AuditLog):
            entries, total = self.store.audit_page(request.account, request.page,
                                                   request.per_page)
            return render.audit_log(request, entries, total)
        if isinstance(request, CreateProfile):
            return self._create(request, caller)
        if isinstance(request, RenameProfile):
            return self._rename(request, caller)
        if isinstance(request, DeleteProfile):
            profile = client.get_profile(request.account, request.profile)
            prompt = self.store.create_prompt(
                request.account, request.profile, display_name(profile.profile_name),
                caller.user, caller.channel, self.confirm_ttl)
            return render.delete_prompt(prompt)
        raise TypeError(f"no handler for {request!r}")

    def _create(self, request: CreateProfile, caller: Caller) -> dict:
        try:
            profile = self.client.create_profile(request.account, request.name)
        except WhatConvertsError as error:
            self._record(caller, "create", _outcome(error), account_id=request.account,
                         new_name=request.name, detail=error.detail)
            raise
        self._record(caller, "create", "ok", account_id=request.account,
                     profile_id=profile.profile_id, new_name=profile.profile_name)
        self._announce(caller, render.announcement(
            "create", caller.user, request.account, profile.profile_id, profile.profile_name))
        return render.profile_details(
            request.account, profile,
            f":white_check_mark: Created profile {profile.profile_id} in account "
            f"{request.account}.")

    def _rename(self, request: RenameProfile, caller: Caller) -> dict:
        before = self.client.get_profile(request.account, request.profile)
        try:
            profile = self.client.rename_profile(request.account, request.profile, request.name)
        except WhatConvertsError as error:
            self._record(caller, "rename", _outcome(error), account_id=request.account,
                         profile_id=request.profile, old_name=before.profile_name,
                         new_name=request.name, detail=error.detail)
            raise
        self._record(caller, "rename", "ok", account_id=request.account,
                     profile_id=request.profile, old_name=before.profile_name,
                     new_name=profile.profile_name)
        self._announce(caller, render.announcement(
            "rename", caller.user, request.account, request.profile, profile.profile_name,
            before.profile_name))
        return render.profile_details(request.account, profile,
                                      f":pencil2: Renamed profile {request.profile}.")

    def _confirm(self, prompt_id: str, caller: Caller, respond: Respond) -> None:
        allowed = self.permissions.may_write(caller.user)
        if not allowed.allowed:
            self._record(caller, "delete", "refused", detail=allowed.reason)
            _tell(respond, f":no_entry: {allowed.reason}")
            return

        claim, prompt = self.store.claim_prompt(
            prompt_id, caller.user, self.permissions.is_admin(caller.user))
        if claim is not Claim.CLAIMED:
            self._unclaimed(claim, prompt, caller, respond)
            return

        _replace(respond, render.note(
            f":hourglass_flowing_sand: Deleting {render.prompt_name(prompt)}…"))
        message = self._guarded(_request_of(prompt), caller, lambda: self._delete(prompt, caller))
        _send(respond, dict(replace_original=True, **message))

    def _delete(self, prompt: Prompt, caller: Caller) -> dict:
        try:
            self.client.delete_profile(prompt.account_id, prompt.profile_id)
        except NotFound as error:
            if error.what != "profile":
                self._settle(prompt, caller, "failed", error)
                raise
            self._settle(prompt, caller, "gone", error)
            return render.note(f"{render.prompt_name(prompt)} was already gone from account "
                               f"{prompt.account_id}; nothing to delete.")
        except WhatConvertsError as error:
            if isinstance(error, Unavailable) and error.may_have_applied:
                self._settle(prompt, caller, "failed", error)
                raise
            # Certainly not deleted: put the buttons back so it can be tried again.
            self._settle(prompt, caller, "pending", error)
            account, profile = prompt.account_id, prompt.profile_id
            return render.delete_prompt(prompt, problem=explain(error, account, profile))

        self._settle(prompt, caller, "deleted")
        self._announce(caller, render.announcement(
            "delete", caller.user, prompt.account_id, prompt.profile_id, prompt.profile_name))
        return render.deleted(prompt, caller.user)

    def _settle(self, prompt: Prompt, caller: Caller, state_: str,
                error: WhatConvertsError | None = None) -> None:
        self.store.settle_prompt(prompt.id, state_)
        outcome = {"deleted": "ok", "gone": "already gone", "pending": "failed, not sent"}.get(
            state_, _outcome(error) if error else state_)
        self._record(caller, "delete", outcome, account_id=prompt.account_id,
                     profile_id=prompt.profile_id, old_name=prompt.profile_name,
                     detail=error.detail if error else None)
        logger.info("delete settled: account=%s profile=%s user=%s state=%s",
                    prompt.account_id, prompt.profile_id, caller.user, state_)

    def _cancel(self, prompt_id: str, caller: Caller, respond: Respond) -> None:
        claim, prompt = self.store.claim_prompt(
            prompt_id, caller.user, self.permissions.is_admin(caller.user), to_state="cancelled")
        if claim is not Claim.CLAIMED:
            self._unclaimed(claim, prompt, caller, respond)
            return
        logger.info("delete cancelled: account=%s profile=%s user=%s", prompt.account_id,
                    prompt.profile_id, caller.user)
        _replace(respond, render.note(f"Cancelled: {render.prompt_name(prompt)} was not deleted."))

    def _unclaimed(self, claim: Claim, prompt: Prompt | None, caller: Caller,
                   respond: Respond) -> None:
        logger.info("delete click not claimed: claim=%s user=%s", claim.value, caller.user)
        if claim is Claim.FORBIDDEN:
            reason = f"Only <@{prompt.requester}> or an admin can answer this delete prompt."
            self._record(caller, "delete", "refused", account_id=prompt.account_id,
                         profile_id=prompt.profile_id, old_name=prompt.profile_name,
                         detail="not the person who asked")
            _tell(respond, reason)
        elif claim is Claim.EXPIRED:
            _replace(respond, render.note(
                f"This delete prompt has expired, so nothing was deleted. Run "
                f"`/profiles delete {prompt.account_id} {prompt.profile_id}` again."))
        elif claim is Claim.UNKNOWN:
            _tell(respond, STALE)
        else:
            _tell(respond, ANSWERED)

    def _guarded(self, request, caller: Caller, work) -> dict:
        """Run the upstream work; any failure becomes a short message, and the log gets the rest."""
        started = time.monotonic()
        calls_before = self.client.calls_made()
        outcome = "ok"
        account = getattr(request, "account", None)
        try:
            return work()
        except WhatConvertsError as error:
            outcome = type(error).__name__
            return render.note(explain(error, account, getattr(request, "profile", None)))
        except Exception:
            outcome = "crash"
            logger.exception("%s crashed: account=%s user=%s", _verb(request), account,
                             caller.user)
            return render.note(BROKEN)
        finally:
            fields = {"verb": _verb(request), "account": account, "user": caller.user,
                      "outcome": outcome,
                      "duration_ms": round((time.monotonic() - started) * 1000),
                      "upstream_calls": self.client.calls_made() - calls_before}
            logger.info("%(verb)s account=%(account)s user=%(user)s outcome=%(outcome)s "
                        "in %(duration_ms)d ms, %(upstream_calls)d upstream calls", fields,
                        extra=fields)

    # Records and announcements

    def _record(self, caller: Caller, verb: str, outcome: str, **fields) -> None:
        try:
            self.store.record(user_id=caller.user, channel=caller.channel, verb=verb,
                              outcome=outcome, **fields)
        except Exception:
            logger.exception("could not write the audit entry: verb=%s outcome=%s", verb,
                             outcome)

    def _announce(self, caller: Caller, message: dict) -> None:
        if not self.announce or caller.channel == "unknown":
            return
        try:
            self.slack.chat_postMessage(channel=caller.channel, **message)
        except (SlackApiError, OSError) as error:
            reason = getattr(getattr(error, "response", None), "get", lambda _: None)("error")
            logger.warning("announcement not posted in channel=%s: %s", caller.channel,
                           reason or type(error).__name__)


def _verb(request) -> str:
    return {ListProfiles: "list", GetProfile: "get", CreateProfile: "create",
            RenameProfile: "rename", DeleteProfile: "delete", AuditLog: "audit",
            _DeleteRequest: "delete"}.get(type(request), type(request).__name__)


@dataclass(frozen=True)
class _DeleteRequest:
    account: int
    profile: int


def _request_of(prompt: Prompt) -> _DeleteRequest:
    return _DeleteRequest(prompt.account_id, prompt.profile_id)


def _outcome(error: WhatConvertsError) -> str:
    if isinstance(error, Unavailable) and error.may_have_applied:
        return "unknown (answer lost)"
    return f"failed: {type(error).__name__}"


def _slack_id(value) -> str:
    """A Slack user or channel id, safe to put in `<@...>`; anything else becomes "unknown"."""
    return value if isinstance(value, str) and _SLACK_ID.match(value) else "unknown"


def _replace(respond: Respond, message: dict) -> None:
    _send(respond, dict(replace_original=True, **message))


def _tell(respond: Respond, text: str) -> None:
    """A new ephemeral note that leaves the clicked message as it is."""
    _send(respond, dict(replace_original=False, response_type="ephemeral", **render.note(text)))


def _send(respond: Respond, payload: dict) -> None:
    try:
        result = respond(**payload)
        if result.status_code >= 400:
            logger.warning("response_url refused the answer: status=%s", result.status_code)
    except Exception:
        logger.exception("could not deliver an answer through response_url")
