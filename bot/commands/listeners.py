"""The /profiles command and its buttons: parse, acknowledge at once, do the work in the pool.

No exception may escape a listener: Bolt can lose an acknowledgement that is followed by one.
"""

import contextlib
import io
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cachetools import TTLCache
from defusedcsv import csv
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.commands import render, state
from bot.commands.explain import explain
from bot.commands.parse import (
    AuditLog,
    CreateProfile,
    DeleteProfile,
    ExportProfiles,
    FindProfiles,
    GetProfile,
    Help,
    ListAccounts,
    ListProfiles,
    OpenCreateForm,
    ParseError,
    RenameProfile,
    UseAccount,
    parse,
)
from bot.commands.text import NAME_LIMIT, display_name, unquote_name
from bot.permissions import Decision, Permissions
from bot.storage import Claim, Store
from bot.storage.store import Prompt
from bot.whatconverts import (
    CredentialsRefused,
    InputRejected,
    NotFound,
    QuotaExhausted,
    RateLimited,
    Unavailable,
    WhatConverts,
    WhatConvertsError,
)
from bot.work import Admission, WorkPool

logger = logging.getLogger(__name__)

BUSY = ":hourglass: The bot is busy with other requests. Try again in a minute."
WORKING = ":hourglass_flowing_sand: Working on it…"
BROKEN = ":warning: Something went wrong on our side and it has been logged. Please try again."
STALE = ":warning: That button is from an older message I can't read. Run the command again."
ANSWERED = "This delete prompt has already been answered."
WRITES = (CreateProfile, RenameProfile, DeleteProfile, OpenCreateForm, UseAccount)
FOUND_CACHE_SECONDS = 60  # `find` reuses the pages it fetched for this long
FOUND_CACHE_PROFILES = 40_000  # ...holding at most this many profiles (about 0.7 KB each)
PROGRESS_EVERY_SECONDS = 1.0
_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Caller:
    """Who typed or clicked, and where."""

    user: str
    channel: str
    trigger_id: str | None = None  # lets a form open, for 3 seconds after the command or click


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
        self._found: TTLCache = TTLCache(maxsize=FOUND_CACHE_PROFILES, ttl=FOUND_CACHE_SECONDS,
                                         getsizeof=len)
        self._found_lock = threading.Lock()
        # A click's "working on it" is an HTTP call of its own; made in Bolt's listener thread
        # (5 of them) it would hold up the acks of the clicks behind it, just when the bot is
        # busiest. Two threads of its own are enough: a note is one short request.
        self._notes = ThreadPoolExecutor(max_workers=2, thread_name_prefix="notes")

    def register(self, app: App) -> None:
        app.command("/profiles")(self.on_command)
        app.action(re.compile(r"^profiles\.page\."))(self.on_page)
        app.action(re.compile(r"^profiles\.audit\."))(self.on_audit_page)
        app.action(re.compile(r"^profiles\.find\."))(self.on_find_page)
        app.action(re.compile(r"^profiles\.accounts\."))(self.on_accounts_page)
        app.action("profiles.delete.confirm")(self.on_confirm)
        app.action("profiles.delete.cancel")(self.on_cancel)
        app.action("profiles.form.create")(self.on_new_profile)
        app.action("profiles.row.rename")(self.on_row_rename)
        app.action("profiles.row.delete")(self.on_row_delete)
        app.view(re.compile(r"^profiles\.form\."))(self.on_form_submit)

    # Listeners: each answers Slack within milliseconds.

    def on_command(self, ack: Ack, command: dict, respond: Respond) -> None:
        caller = Caller(_slack_id(command.get("user_id")), _slack_id(command.get("channel_id")),
                        command.get("trigger_id"))
        started = time.monotonic()
        try:
            request = parse(command.get("text", ""), self._bound_account(caller.channel))
        except ParseError as problem:
            ack(response_type="ephemeral", **render.note(str(problem)))
            _log_line("parse", None, caller.user, "refused: bad input", started, 0)
            return
        except Exception:
            logger.exception("command parse crashed: user=%s", caller.user)
            ack(response_type="ephemeral", **render.note(BROKEN))
            return

        if isinstance(request, Help):
            ack(response_type="ephemeral", **render.help_message(request.problem))
            _log_line("help", None, caller.user, "unknown verb" if request.problem else "ok",
                      started, 0)
            return
        admission = self.pool.submit(_answering(self._answer_command), request, caller, respond)
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

    def on_find_page(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._answer_page, action, state.read_find_value)

    def on_accounts_page(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._answer_page, action,
                    lambda value: ListAccounts(state.read_accounts_value(value)))

    def on_new_profile(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._open_form, action,
                    lambda value: OpenCreateForm(state.read_account_value(value)))

    def on_row_rename(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._open_rename_form, _selected(action),
                    state.read_row_value)

    def on_row_delete(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._answer_command, _selected(action),
                    lambda value: DeleteProfile(**vars(state.read_row_value(value))))

    def on_form_submit(self, ack: Ack, body: dict, view: dict) -> None:
        """A name form was saved: refuse a blank name in the form itself, else do the work."""
        try:
            context = state.read_form_metadata(view.get("private_metadata", ""))
            name = unquote_name(view["state"]["values"]["name"]["name"].get("value") or "")
        except (state.StaleButton, KeyError, TypeError):
            logger.warning("unreadable form submission: callback=%s", view.get("callback_id"))
            ack(response_action="errors", errors={"name": "This form is out of date. Close it "
                                                            "and run the command again."})
            return
        if not name:
            ack(response_action="errors", errors={"name": "The name cannot be empty."})
            return
        if len(name) > NAME_LIMIT:
            ack(response_action="errors",
                errors={"name": f"A name can have at most {NAME_LIMIT:,} characters."})
            return
        ack()

        caller = Caller(_slack_id((body.get("user") or {}).get("id")),
                        _slack_id(context.channel))
        if context.verb == "rename" and context.profile:
            request = RenameProfile(context.account, context.profile, name)
        else:
            request = CreateProfile(context.account, name)
        if self.pool.submit(self._answer_form, request, caller) is Admission.REFUSED:
            self._post_ephemeral(caller, render.note(BUSY))

    def on_confirm(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._confirm, action, state.read_prompt_id)

    def on_cancel(self, ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        self._click(body, respond, self._cancel, action, state.read_prompt_id)

    def _click(self, body: dict, respond: Respond, job, action: dict, read) -> None:
        channel = ((body.get("channel") or {}).get("id")
                   or (body.get("container") or {}).get("channel_id"))
        caller = Caller(_slack_id((body.get("user") or {}).get("id")), _slack_id(channel),
                        body.get("trigger_id"))
        try:
            value = read(action.get("value", ""))
        except state.StaleButton:
            logger.warning("stale button: action=%s user=%s", action.get("action_id"),
                           caller.user)
            self._notes.submit(_tell, respond, STALE)
            return
        admission = self.pool.submit(_answering(job), value, caller, respond)
        if admission is Admission.REFUSED:
            logger.warning("work pool full: refused a click from user=%s", caller.user)
            self._notes.submit(_tell, respond, BUSY)
        elif admission is Admission.QUEUED:
            self._notes.submit(_tell, respond, WORKING)

    # Work done in the pool

    def _answer_command(self, request, caller: Caller, respond: Respond) -> None:
        refusal = self._refusal(request, caller)
        if refusal:
            _tell(respond, refusal)  # a note beside a clicked menu, never in its place
            return
        if isinstance(request, ExportProfiles):
            self._export(request, caller, respond)
            return
        if isinstance(request, OpenCreateForm):
            self._open_form(request, caller, respond)
            return
        message = self._guarded(request, caller, lambda: self._command_message(request, caller))
        _send(respond, dict(response_type="ephemeral", replace_original=False, **message))

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
        if account is not None:
            decision = self.permissions.may_use_account(caller.channel, account)
        elif isinstance(request, ListAccounts | AuditLog):
            decision = self.permissions.may_see_every_account(caller.channel, _verb(request))
        else:
            decision = Decision(True)
        if decision.allowed and _changes_something(request):
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
        if isinstance(request, FindProfiles):
            return render.found_page(request, self._matches(request))
        if isinstance(request, ListAccounts):
            return render.accounts_page(request.page,
                                        client.list_accounts(page=request.page,
                                                             per_page=request.per_page))
        if isinstance(request, UseAccount):
            return self._use(request, caller)
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
        self._forget_found(request.account)
        self._record(caller, "create", "ok", account_id=request.account,
                     profile_id=profile.profile_id, new_name=profile.profile_name)
        self._announce(caller, render.announcement(
            "create", caller.user, request.account, profile.profile_id, profile.profile_name))
        return render.profile_details(
            request.account, profile,
            f":white_check_mark: Created profile {profile.profile_id} in account "
            f"{request.account}.")

    def _rename(self, request: RenameProfile, caller: Caller) -> dict:
        before = None
        try:
            before = self.client.get_profile(request.account, request.profile)
            if before.profile_name == request.name:
                return render.note(f"Profile {request.profile} is already called "
                                   f"{render.quoted(request.name)}; nothing changed.")
            profile = self.client.rename_profile(request.account, request.profile, request.name)
        except WhatConvertsError as error:
            self._record(caller, "rename", _outcome(error), account_id=request.account,
                         profile_id=request.profile,
                         old_name=before.profile_name if before else None,
                         new_name=request.name, detail=error.detail)
            raise
        self._forget_found(request.account)
        self._record(caller, "rename", "ok", account_id=request.account,
                     profile_id=request.profile, old_name=before.profile_name,
                     new_name=profile.profile_name)
        self._announce(caller, render.announcement(
            "rename", caller.user, request.account, request.profile, profile.profile_name,
            before.profile_name))
        return render.profile_details(request.account, profile,
                                      f":pencil2: Renamed profile {request.profile}.")

    # Channel bindings

    def _bound_account(self, channel: str) -> int | None:
        try:
            return self.store.channel_account(channel)
        except Exception:
            logger.exception("could not read the binding of channel=%s", channel)
            return None

    def _use(self, request: UseAccount, caller: Caller) -> dict:
        if request.account is None and not request.clear:
            bound = self.store.channel_account(caller.channel)
            if bound is None:
                return render.note("This channel has no account. `/profiles use ACCOUNT` sets "
                                   "one, so commands here can leave it out.")
            return render.note(f"This channel uses account {bound}: commands here may leave "
                               "it out. `/profiles use none` clears it.")
        if request.clear:
            cleared = self.store.unbind_channel(caller.channel)
            self._record(caller, "use", "cleared" if cleared else "nothing to clear")
            return render.note("This channel no longer has an account." if cleared
                               else "This channel had no account.")

        self.client.list_profiles(request.account, per_page=1)  # NotFound if it doesn't exist
        self.store.bind_channel(caller.channel, request.account, caller.user)
        self._record(caller, "use", "ok", account_id=request.account)
        return render.note(f":pushpin: This channel now uses account {request.account}: "
                           "commands here may leave it out, e.g. `/profiles list`.")

    # find and export: every page of an account

    def _matches(self, request: FindProfiles) -> list:
        with self._found_lock:
            profiles = self._found.get(request.account)
        if profiles is None:
            profiles = self.client.all_profiles(request.account)
            with self._found_lock, contextlib.suppress(ValueError):  # too big to keep
                self._found[request.account] = profiles
        needle = request.text.casefold()
        return [p for p in profiles if needle in (p.profile_name or "").casefold()]

    def _forget_found(self, account: int) -> None:
        """A change here makes this process's `find` pages of the account out of date."""
        with self._found_lock:
            self._found.pop(account, None)

    def _export(self, request: ExportProfiles, caller: Caller, respond: Respond) -> None:
        """Every matching profile as a CSV file in the channel, with a progress message there."""
        progress = _Progress(self.slack, caller.channel, request.account)

        def build() -> dict:
            try:
                profiles = self.client.all_profiles(request.account, since=request.since,
                                                    until=request.until, on_page=progress.update)
            except Exception:
                # The user hears why from _guarded; the channel must not keep "Exporting…".
                progress.finish(f":warning: Export of account {request.account} stopped: "
                                "nothing was uploaded.")
                raise
            if not profiles:
                progress.finish(f"Account {request.account} has no profiles to export.")
                return render.note(f"Account {request.account} has no matching profiles, so "
                                   "there was nothing to upload.")
            self.slack.files_upload_v2(
                channel=caller.channel, content=_csv(profiles),
                filename=f"profiles-{request.account}.csv",
                title=f"Profiles of account {request.account}",
                initial_comment=f"<@{caller.user}> exported {len(profiles):,} profiles of "
                                f"account {request.account}.",
            )
            progress.finish(f":white_check_mark: Exported {len(profiles):,} profiles of account "
                            f"{request.account}.")
            return render.note(f"Done: {len(profiles):,} profiles, uploaded to this channel.")

        def upload_refused(error: SlackApiError) -> dict:
            logger.warning("export upload refused in channel=%s: %s", caller.channel,
                           error.response.get("error"))
            progress.finish(":warning: Export stopped: the file could not be uploaded.")
            return render.note(":warning: Slack refused the file. Invite the bot to this "
                               "channel (`/invite @profiles`) and try again.")

        progress.start()
        message = self._guarded(request, caller, lambda: _or_slack_error(build, upload_refused))
        _send(respond, dict(response_type="ephemeral", **message))

    # Forms

    def _open_form(self, request: OpenCreateForm, caller: Caller, respond: Respond) -> None:
        refusal = self._refusal(request, caller)
        if refusal:
            _tell(respond, refusal)
            return
        context = state.FormContext("create", request.account, caller.channel)
        self._open_view(caller, respond, render.name_form(
            "profiles.form.create", state.form_metadata(context), request.account))

    def _open_rename_form(self, row: state.Row, caller: Caller, respond: Respond) -> None:
        request = RenameProfile(row.account, row.profile, "")
        refusal = self._refusal(request, caller)
        if refusal:
            _tell(respond, refusal)
            return
        # The trigger lasts 3 seconds and WhatConverts may take longer: open the form first,
        # then fill in the old name.
        view_id = self._open_view(caller, respond, render.loading_form(row.account, row.profile))
        if view_id is None:
            return
        try:
            profile = self.client.get_profile(row.account, row.profile)
        except WhatConvertsError as error:
            self._update_view(caller, view_id, render.form_problem(
                row.account, row.profile, explain(error, row.account, row.profile)))
            return
        context = state.FormContext("rename", row.account, caller.channel, row.profile)
        self._update_view(caller, view_id, render.name_form(
            "profiles.form.rename", state.form_metadata(context), row.account, row.profile,
            initial=(profile.profile_name or "")[:render.NAME_FORM_LIMIT]))

    def _open_view(self, caller: Caller, respond: Respond, view: dict) -> str | None:
        """Open a form; answers its view id, or None after telling the user it could not."""
        try:
            opened = self.slack.views_open(trigger_id=caller.trigger_id, view=view)
            return str((opened.get("view") or {}).get("id") or "")
        except (SlackApiError, OSError) as error:
            logger.warning("views.open failed for user=%s: %s", caller.user,
                           _slack_error(error))
            _tell(respond, "I couldn't open the form (Slack allows 3 seconds). Try again, or "
                           "type the name: `/profiles create ACCOUNT NAME`.")
            return None

    def _update_view(self, caller: Caller, view_id: str, view: dict) -> None:
        try:
            self.slack.views_update(view_id=view_id, view=view)
        except (SlackApiError, OSError) as error:
            logger.warning("views.update failed for user=%s: %s", caller.user,
                           _slack_error(error))

    def _answer_form(self, request, caller: Caller) -> None:
        try:
            refusal = self._refusal(request, caller)
            message = (render.note(refusal) if refusal else
                       self._guarded(request, caller,
                                     lambda: self._command_message(request, caller)))
        except Exception:
            logger.exception("form answer crashed for user=%s", caller.user)
            message = render.note(BROKEN)
        self._post_ephemeral(caller, message)

    def _post_ephemeral(self, caller: Caller, message: dict) -> None:
        """A form's answer, in its channel for the user only; failing that, in a direct message."""
        try:
            self.slack.chat_postEphemeral(channel=caller.channel, user=caller.user, **message)
            return
        except (SlackApiError, OSError) as error:
            logger.warning("could not post the form's answer in channel=%s to user=%s: %s",
                           caller.channel, caller.user, _slack_error(error))
        try:
            self.slack.chat_postMessage(channel=caller.user, **message)
        except (SlackApiError, OSError) as error:
            logger.warning("could not send the form's answer to user=%s at all: %s",
                           caller.user, _slack_error(error))

    # Deleting

    def _confirm(self, prompt_id: str, caller: Caller, respond: Respond) -> None:
        allowed = self.permissions.may_write(caller.user)
        if not allowed.allowed:
            prompt = self.store.get_prompt(prompt_id)
            self._record(caller, "delete", "refused", detail=allowed.reason,
                         **({"account_id": prompt.account_id, "profile_id": prompt.profile_id,
                             "old_name": prompt.profile_name} if prompt else {}))
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
                return self._delete_answer_lost(prompt, caller, error)
            # Certainly not deleted: put the buttons back so it can be tried again.
            self._settle(prompt, caller, "pending", error)
            account, profile = prompt.account_id, prompt.profile_id
            return render.delete_prompt(prompt, problem=explain(error, account, profile))
        return self._deleted(prompt, caller)

    def _delete_answer_lost(self, prompt: Prompt, caller: Caller, lost: Unavailable) -> dict:
        """The DELETE went out and its answer did not come back: a read tells what happened."""
        try:
            self.client.get_profile(prompt.account_id, prompt.profile_id)
        except WhatConvertsError as error:
            if isinstance(error, NotFound) and error.what == "profile":
                return self._deleted(prompt, caller)
            self._settle(prompt, caller, "failed", lost)
            raise lost from None

        self._settle(prompt, caller, "pending", lost)
        return render.delete_prompt(prompt, problem=(
            ":warning: WhatConverts did not answer the delete, and the profile is still there. "
            "Try again in a minute."))

    def _deleted(self, prompt: Prompt, caller: Caller) -> dict:
        self._forget_found(prompt.account_id)
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
            _log_line(_verb(request), account, caller.user, outcome, started,
                      self.client.calls_made() - calls_before)

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
            logger.warning("announcement not posted in channel=%s: %s", caller.channel,
                           _slack_error(error))


def _log_line(verb: str, account, user: str, outcome: str, started: float, calls: int) -> None:
    """The one line a command or click leaves in the log; its fields are JSON keys too."""
    fields = {"verb": verb, "account": account, "user": user, "outcome": outcome,
              "duration_ms": round((time.monotonic() - started) * 1000),
              "upstream_calls": calls}
    logger.info("%(verb)s account=%(account)s user=%(user)s outcome=%(outcome)s "
                "in %(duration_ms)d ms, %(upstream_calls)d upstream calls", fields, extra=fields)


def _answering(job):
    """`job` in the pool, with a last answer if it crashes: the user never hears nothing."""
    def run(value, caller: Caller, respond: Respond) -> None:
        try:
            job(value, caller, respond)
        except Exception:
            logger.exception("%s crashed for user=%s", getattr(job, "__name__", "job"),
                             caller.user)
            _tell(respond, BROKEN)
    return run


def _verb(request) -> str:
    return {ListProfiles: "list", GetProfile: "get", CreateProfile: "create",
            RenameProfile: "rename", DeleteProfile: "delete", AuditLog: "audit",
            _DeleteRequest: "delete", ListAccounts: "accounts", UseAccount: "use",
            ExportProfiles: "export", FindProfiles: "find", OpenCreateForm: "create"
            }.get(type(request), type(request).__name__)


class _Progress:
    """A message in the channel that follows a long job: "page 12 of 40", updated in place."""

    def __init__(self, slack: WebClient, channel: str, account: int):
        self.slack, self.channel, self.account = slack, channel, account
        self.ts: str | None = None
        self.shown_at = 0.0

    def start(self) -> None:
        try:
            answer = self.slack.chat_postMessage(
                channel=self.channel, **render.export_progress(self.account, 0, 0))
            self.ts = answer.get("ts")
        except (SlackApiError, OSError) as error:
            logger.warning("no progress message in channel=%s: %s", self.channel,
                           _slack_error(error))

    def update(self, done: int, total: int) -> None:
        if self.ts is None or (time.monotonic() - self.shown_at < PROGRESS_EVERY_SECONDS
                               and done < total):
            return
        self.shown_at = time.monotonic()
        self._show(render.export_progress(self.account, done, total))

    def finish(self, text: str) -> None:
        if self.ts is not None:
            self._show(render.note(text))

    def _show(self, message: dict) -> None:
        try:
            self.slack.chat_update(channel=self.channel, ts=self.ts, **message)
        except (SlackApiError, OSError) as error:
            logger.warning("progress not updated in channel=%s: %s", self.channel,
                           _slack_error(error))


def _changes_something(request) -> bool:
    if isinstance(request, UseAccount):
        return request.account is not None or request.clear
    return isinstance(request, WRITES)


def _csv(profiles: list) -> str:
    """The export file. A name starting with = + - @ gets a leading ' (defusedcsv), so a
    spreadsheet shows it instead of running it as a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["profile_id", "profile_name", "date_created"])
    for profile in profiles:
        created = profile.date_created
        writer.writerow([profile.profile_id, profile.profile_name or "",
                         created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else ""])
    return out.getvalue()


def _slack_error(error: Exception) -> str:
    """Slack's error code (`not_in_channel`, ...) or the exception's name: never a payload."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or "SlackApiError")
    return type(error).__name__


def _or_slack_error(work, on_error):
    try:
        return work()
    except SlackApiError as error:
        return on_error(error)


def _selected(action: dict) -> dict:
    """A select menu's pick, shaped like a button's action for `_click`."""
    return {**action, "value": (action.get("selected_option") or {}).get("value", "")}


@dataclass(frozen=True)
class _DeleteRequest:
    account: int
    profile: int


def _request_of(prompt: Prompt) -> _DeleteRequest:
    return _DeleteRequest(prompt.account_id, prompt.profile_id)


# What the audit trail says of a failure, in the words `/profiles audit` shows to people.
_FAILURES = {CredentialsRefused: "failed: API key refused", NotFound: "failed: not found",
             InputRejected: "failed: refused by WhatConverts",
             QuotaExhausted: "failed: daily quota spent", RateLimited: "failed: throttled",
             Unavailable: "failed: WhatConverts unavailable"}


def _outcome(error: WhatConvertsError) -> str:
    if isinstance(error, Unavailable) and error.may_have_applied:
        return "unknown (answer lost)"
    kind = next((k for k in type(error).__mro__ if k in _FAILURES), None)
    return _FAILURES[kind] if kind else "failed"


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
