"""The /profiles command and its buttons: parse, acknowledge at once, do the work in the pool.

No exception may escape a listener: Bolt can lose an acknowledgement that is followed by one.
"""

import logging
import re
import secrets
import time

from slack_bolt import Ack, App, Respond

from bot.commands import render, state
from bot.commands.explain import explain
from bot.commands.parse import (
    CreateProfile,
    DeleteProfile,
    GetProfile,
    Help,
    ListProfiles,
    ParseError,
    RenameProfile,
    parse,
)
from bot.commands.text import display_name, escape
from bot.confirmations import Confirmations
from bot.whatconverts import NotFound, WhatConverts, WhatConvertsError
from bot.work import Admission, WorkPool

logger = logging.getLogger(__name__)

BUSY = ":hourglass: The bot is busy with other requests. Try again in a minute."
WORKING = ":hourglass_flowing_sand: Working on it…"
BROKEN = ":warning: Something went wrong on our side and it has been logged. Please try again."
STALE = ":warning: That button is from an older message I can't read. Run the command again."
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ProfilesCommand:
    def __init__(self, client: WhatConverts, pool: WorkPool, confirmations: Confirmations,
                 confirm_ttl: float):
        self.client = client
        self.pool = pool
        self.confirmations = confirmations
        self.confirm_ttl = confirm_ttl

    def register(self, app: App) -> None:
        app.command("/profiles")(self.on_command)
        app.action(re.compile(r"^profiles\.page\."))(self.on_page)
        app.action("profiles.delete.confirm")(self.on_confirm)
        app.action("profiles.delete.cancel")(self.on_cancel)

    # Listeners: each answers Slack within milliseconds.

    def on_command(self, ack: Ack, command: dict, respond: Respond) -> None:
        user = _valid_user(command.get("user_id", ""))
        try:
            request = parse(command.get("text", ""))
        except ParseError as problem:
            logger.info("command refused: user=%s reason=parse", user)
            ack(response_type="ephemeral", **render.note(str(problem)))
            return
        except Exception:
            logger.exception("command parse crashed: user=%s", user)
            ack(response_type="ephemeral", **render.note(BROKEN))
            return

        if isinstance(request, Help):
            ack(response_type="ephemeral", **render.help_message(request.problem))
            return
        self._admit(ack, self._answer_command, request, user, respond)

    def on_page(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        try:
            request = state.read_page_value(action.get("value", ""))
        except state.StaleButton:
            logger.warning("stale page button: action=%s", action.get("action_id"))
            respond(replace_original=False, response_type="ephemeral", **render.note(STALE))
            return
        self._start(self._answer_page, request, _user(body), respond)

    def on_confirm(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        prompt, user = self._prompt_for(body, action, respond)
        if prompt is None:
            return
        if time.time() - prompt.asked_at > self.confirm_ttl:
            logger.info("delete expired: account=%s profile=%s", prompt.account, prompt.profile)
            _replace(respond, render.note(
                f"This delete prompt has expired, so nothing was deleted. Run "
                f"`/profiles delete {prompt.account} {prompt.profile}` again."))
            return
        if not self.confirmations.claim(prompt.nonce):
            logger.info("delete click repeated: account=%s profile=%s", prompt.account,
                        prompt.profile)
            _tell(respond, "This delete has already been answered.")
            return

        _replace(respond, render.note(f":hourglass_flowing_sand: Deleting {_who(prompt)}…"))
        self._start(self._delete, prompt, user, respond)

    def on_cancel(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        prompt, user = self._prompt_for(body, action, respond)
        if prompt is None:
            return
        if not self.confirmations.claim(prompt.nonce):
            _tell(respond, "This delete has already been answered.")
            return
        logger.info("delete cancelled: account=%s profile=%s user=%s", prompt.account,
                    prompt.profile, user)
        _replace(respond, render.note(f"Cancelled: {_who(prompt)} was not deleted."))

    # Work done in the pool

    def _answer_command(self, request, user: str, respond: Respond) -> None:
        verb = type(request).__name__
        message = self._guarded(verb, request, user, lambda: self._command_message(request, user))
        _send(respond, dict(response_type="ephemeral", **message))

    def _command_message(self, request, user: str) -> dict:
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
        if isinstance(request, CreateProfile):
            profile = client.create_profile(request.account, request.name)
            return render.profile_details(
                request.account, profile, f":white_check_mark: Created profile "
                f"{profile.profile_id} in account {request.account}.")
        if isinstance(request, RenameProfile):
            profile = client.rename_profile(request.account, request.profile, request.name)
            return render.profile_details(
                request.account, profile, f":pencil2: Renamed profile {request.profile}.")
        if isinstance(request, DeleteProfile):
            profile = client.get_profile(request.account, request.profile)
            prompt = state.DeletePrompt(
                account=request.account, profile=request.profile,
                name=display_name(profile.profile_name), requester=user,
                nonce=secrets.token_urlsafe(12), asked_at=time.time(),
            )
            return render.delete_prompt(prompt)
        raise TypeError(f"no handler for {request!r}")

    def _answer_page(self, request: ListProfiles, user: str, respond: Respond) -> None:
        message = self._guarded("page", request, user, lambda: self._command_message(request, user))
        _send(respond, dict(replace_original=True, **message))

    def _delete(self, prompt: state.DeletePrompt, user: str, respond: Respond) -> None:
        def attempt():
            try:
                result = self.client.delete_profile(prompt.account, prompt.profile)
            except WhatConvertsError as error:
                if not getattr(error, "may_have_applied", False):
                    # Nothing was deleted, so the same prompt may be confirmed again later.
                    self.confirmations.release(prompt.nonce)
                if isinstance(error, NotFound) and error.what == "profile":
                    return render.note(f"{_who(prompt)} was already gone from account "
                                       f"{prompt.account}; nothing to delete.")
                raise
            logger.info("profile deleted: account=%s profile=%s user=%s already_gone=%s",
                        prompt.account, prompt.profile, user, result.already_gone)
            return render.deleted(prompt, user)

        message = self._guarded("delete", prompt, user, attempt)
        _send(respond, dict(replace_original=True, **message))

    def _guarded(self, verb: str, request, user: str, work) -> dict:
        """Run the upstream work; any failure becomes a short message, and the log gets the rest."""
        started = time.monotonic()
        outcome = "ok"
        try:
            return work()
        except WhatConvertsError as error:
            outcome = type(error).__name__
            return render.note(explain(error, request.account, getattr(request, "profile", None)))
        except Exception:
            outcome = "crash"
            logger.exception("%s crashed: account=%s user=%s", verb, request.account, user)
            return render.note(BROKEN)
        finally:
            logger.info("%s account=%s user=%s outcome=%s in %.0f ms", verb, request.account,
                        user, outcome, (time.monotonic() - started) * 1000)

    # Plumbing

    def _admit(self, ack: Ack, job, request, user: str, respond: Respond) -> None:
        admission = self.pool.submit(job, request, user, respond)
        if admission is Admission.REFUSED:
            logger.warning("work pool full: refused %s for user=%s", type(request).__name__, user)
            ack(response_type="ephemeral", **render.note(BUSY))
        elif admission is Admission.QUEUED:
            ack(response_type="ephemeral", **render.note(WORKING))
        else:
            ack()

    def _start(self, job, request, user: str, respond: Respond) -> None:
        admission = self.pool.submit(job, request, user, respond)
        if admission is Admission.REFUSED:
            logger.warning("work pool full: refused a click from user=%s", user)
            _tell(respond, BUSY)
            if isinstance(request, state.DeletePrompt):
                self.confirmations.release(request.nonce)

    def _prompt_for(self, body: dict, action: dict, respond: Respond):
        """The prompt behind a delete button, if this user may answer it; else tell them why not."""
        user = _user(body)
        try:
            prompt = state.read_delete_value(action.get("value", ""))
        except state.StaleButton:
            logger.warning("stale delete button: action=%s", action.get("action_id"))
            _tell(respond, STALE)
            return None, user
        if user != prompt.requester:
            logger.info("delete refused: account=%s profile=%s user=%s requester=%s",
                        prompt.account, prompt.profile, user, prompt.requester)
            _tell(respond, f"Only <@{prompt.requester}> can answer this delete prompt.")
            return None, user
        return prompt, user


def _user(body: dict) -> str:
    return _valid_user((body.get("user") or {}).get("id", ""))


def _valid_user(user: str) -> str:
    """A Slack user id, safe to put in `<@...>`; anything else becomes "unknown"."""
    return user if isinstance(user, str) and _USER_ID.match(user) else "unknown"


def _who(prompt: state.DeletePrompt) -> str:
    return escape(f"{display_name(prompt.name)[:200]} ({prompt.profile})")


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
