"""Complaints, suggestions and ticket follow-up: thin adapters from Rasa to :mod:`bot.tickets`.

Conversation design (see ``data/rules/tickets.yml`` and the forms in ``domain.yml``):

* ``complaint_form`` asks category, service, description, how to answer (and the e-mail
  address or phone number), consent, then shows a summary (``ticket_confirm``): send,
  correct a field, or cancel. ``suggestion_form`` is the same with description, optional
  contact and consent. Nothing is stored before "send": a refused consent or a cancel ends
  the form with nothing stored.
* Free text (service, description, contact, added message) is taken verbatim from the
  message that answers the question (``from_text``), so NLU never steals a description.
  Buttons send ``/choose{"option": ...}``, ``/affirm`` or ``/deny``; a typed answer to a
  button question ("par e-mail", "القنصلية") is matched by
  :func:`bot.tickets.labels.match_option`.
* A question asked instead of an answer ("combien coûte un passeport ?") rejects the form:
  the usual rule answers it and the form asks again.
* Every sentence is a domain response in the five varieties; the values they show
  (category, status...) come from :mod:`bot.tickets.labels`.

Privacy: nothing here logs a description, message, e-mail address or phone number.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import conversation_language, latest_entity, latest_intent
from bot.storage.models import CATEGORIES, SERVICE_MAX
from bot.tickets.errors import (
    INVALID,
    NO_WORDS,
    REQUIRED,
    TOO_LONG,
    TOO_SHORT,
    InvalidInput,
    NotOwner,
    TicketClosed,
    TicketError,
    TicketNotFound,
)
from bot.tickets.labels import format_date, label, match_option
from bot.tickets.pseudonym import user_key_for
from bot.tickets.refs import normalize_ref
from bot.tickets.service import FINAL_STATUSES, StatusView, TicketService
from bot.tickets.validation import (
    clean_text,
    validate_description,
    validate_email,
    validate_phone,
    validate_text,
)

logger = logging.getLogger(__name__)

#: Slots of the complaint and suggestion forms, reset before and after each form.
FORM_SLOTS = (
    "category",
    "service",
    "description",
    "contact_kind",
    "contact",
    "consent",
    "ticket_confirm",
)
#: Slots filled with the whole text of the answer (``from_text``).
FREE_TEXT_SLOTS = frozenset({"service", "description", "contact", "ticket_message", "ticket_ref"})
#: Free-text slots where a confident question is taken as an interruption, not an answer.
#: Never ``description`` nor ``ticket_message``: a complaint may well be phrased as a question.
QUESTION_INTERRUPTS = frozenset({"service", "contact"})
CONTACT_CHOICES = ("chat", "email", "phone")
#: Intent confidence above which a typed question is answered rather than stored.
QUESTION_CONFIDENCE = 0.8
#: Longest typed question taken as an interruption, in words.
QUESTION_MAX_WORDS = 12
#: Characters of the description shown in the summary (the stored text is kept whole).
PREVIEW_CHARS = 300
#: Tickets offered as buttons when the user gives no reference.
MAX_TICKET_BUTTONS = 5

_PAYLOAD = re.compile(r"^/[A-Za-z_][\w-]*(\{.*\})?\s*$", re.DOTALL)
_QUESTION_START = re.compile(
    r"^\s*(combien|comment|pourquoi|quand|quel|quelle|quels|quelles|ou|où|est-ce|how|what|why|"
    r"when|where|which|who|can|do|does|is|are|wach|chhal|ch7al|kifach|fin|ach|3lach|imta|"
    r"واش|شحال|كيفاش|فين|علاش|إمتى|امتى|كم|كيف|متى|أين|لماذا|هل|ما)\b",
    re.IGNORECASE,
)
_NOT_AN_ANSWER = {"choose", "affirm", "deny", "nlu_fallback", None}
_LOOP_PLUMBING = {"action_listen", "action_extract_slots", "action_validate_slot_mappings"}


# ---------------------------------------------------------------------------- helpers


def ticket_service() -> TicketService:
    """The ticket service on the configured database (``DATABASE_URL``), built on use."""
    from bot.storage.db import get_session_factory  # noqa: PLC0415 (no connection at import)

    return TicketService(get_session_factory())


def channel_of(tracker: Tracker) -> str:
    """The channel of the latest message (``rest`` when Rasa does not say)."""
    channel = tracker.get_latest_input_channel() or "rest"
    return channel if re.fullmatch(r"[A-Za-z0-9_.\-]{1,32}", channel) else "rest"


def user_key_of(tracker: Tracker) -> str:
    """The pseudonymous key of the user of this conversation."""
    return user_key_for(channel_of(tracker), str(tracker.sender_id))


def latest_text(tracker: Tracker) -> str:
    """Text of the latest user message."""
    return str((tracker.latest_message or {}).get("text") or "")


def is_payload(text: object) -> bool:
    """Whether a text is a button payload (``/intent{...}``) rather than typed text."""
    return isinstance(text, str) and bool(_PAYLOAD.match(text.strip()))


def payload_intent(text: str) -> str:
    """The intent named by a payload (``/choose{...}`` -> ``choose``)."""
    return re.split(r"[{\s]", text.strip()[1:], maxsplit=1)[0]


def looks_like_question(tracker: Tracker) -> bool:
    """A short typed question confidently classified as something we can answer."""
    text = latest_text(tracker).strip()
    intent = (tracker.latest_message or {}).get("intent") or {}
    if is_payload(text) or intent.get("name") in _NOT_AN_ANSWER:
        return False
    if float(intent.get("confidence") or 0.0) < QUESTION_CONFIDENCE:
        return False
    if len(text.split()) > QUESTION_MAX_WORDS:
        return False
    return text.endswith(("?", "؟")) or bool(_QUESTION_START.match(text))


def is_fresh_answer(tracker: Tracker, form: str) -> bool:
    """Whether the form is validating a new user message (not resuming after an answer)."""
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action" and event.get("name") not in _LOOP_PLUMBING | {form}:
            return False
    return False


def preview(text: Optional[str], limit: int = PREVIEW_CHARS) -> str:
    """User text to show back: shortened, with angle brackets made inert."""
    value = clean_text(text)
    if len(value) > limit:
        value = value[:limit].rstrip() + " […]"
    return value.replace("<", "‹").replace(">", "›")


def explain_invalid(
    dispatcher: CollectingDispatcher, error: InvalidInput, text: object, contact_kind: str = ""
) -> None:
    """Tell the user, in their language, why a value was refused."""
    if error.reason == REQUIRED:
        dispatcher.utter_message(response="utter_invalid_empty")
    elif error.reason == NO_WORDS:
        dispatcher.utter_message(response="utter_invalid_no_words")
    elif error.reason == TOO_SHORT:
        dispatcher.utter_message(response="utter_invalid_too_short", min_words=error.limit)
    elif error.reason == TOO_LONG:
        length = len(clean_text(text))
        dispatcher.utter_message(
            response="utter_invalid_too_long", limit=error.limit, length=length
        )
    elif error.reason == INVALID and contact_kind == "phone":
        dispatcher.utter_message(response="utter_invalid_phone")
    elif error.reason == INVALID:
        dispatcher.utter_message(response="utter_invalid_email")
    else:
        dispatcher.utter_message(response="utter_invalid_choice")


def reset_form_slots() -> List[EventType]:
    """Events clearing every slot of the complaint and suggestion forms."""
    return [SlotSet(name, None) for name in FORM_SLOTS]


def ticket_buttons(service: TicketService, key: str, intent: str, open_only: bool) -> List[Dict]:
    """One button per recent ticket of the user (title: its reference)."""
    buttons = []
    for ticket in service.list_for_user(key, limit=20):
        if open_only and ticket.status in FINAL_STATUSES:
            continue
        payload = f'/{intent}{{"ticket_ref": "{ticket.ref}"}}'
        buttons.append({"title": ticket.ref, "payload": payload})
        if len(buttons) == MAX_TICKET_BUTTONS:
            break
    return buttons


def wait_if_throttled(dispatcher: CollectingDispatcher, service: TicketService, key: str) -> bool:
    """Tell the user to wait and return True when look-ups are slowed down for them."""
    delay = service.lookup_delay(key)
    if delay > 0:
        dispatcher.utter_message(response="utter_lookup_wait", seconds=math.ceil(delay))
        return True
    return False


def report_failed_lookup(
    dispatcher: CollectingDispatcher, service: TicketService, key: str, raw: str
) -> None:
    """Count a failed look-up and say whether the reference is unknown or malformed."""
    service.record_failed_lookup(key)
    canonical = normalize_ref(raw)
    if canonical:
        dispatcher.utter_message(response="utter_ticket_not_found", ticket_ref=canonical)
    else:
        dispatcher.utter_message(response="utter_ticket_ref_malformed")


def status_label(lang: str, view: StatusView) -> str:
    """The status of a ticket in ``lang``."""
    return label(lang, f"status.{view.status}")


# ---------------------------------------------------------------------------- forms


class _TicketFormValidation(FormValidationAction):
    """What the complaint and suggestion forms share."""

    #: Fields the user can correct from the summary.
    fields: Sequence[str] = ()

    @abstractmethod
    def name(self) -> Text:
        """Action name in the domain (set by subclasses)."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Reject the form for a question asked instead of a free-text answer."""
        requested = tracker.get_slot("requested_slot")
        if (
            tracker.active_loop_name == self.form_name()
            and requested in FREE_TEXT_SLOTS
            and requested in tracker.slots_to_validate()
            and self._interrupts(tracker, requested)
        ):
            return [SlotSet(requested, None), ActionExecutionRejected(self.form_name())]
        return await super().run(dispatcher, tracker, domain)

    @staticmethod
    def _interrupts(tracker: Tracker, requested: str) -> bool:
        text = latest_text(tracker)
        if is_payload(text):
            # a button of another topic (not "no", which cancels: see _payload_answer)
            return payload_intent(text) not in {"choose", "affirm", "deny"}
        return requested in QUESTION_INTERRUPTS and looks_like_question(tracker)

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """The domain's slots, ``contact`` only for e-mail/phone; none once refused."""
        if tracker.get_slot("consent") is False or tracker.get_slot("ticket_confirm") == "cancel":
            return []
        if tracker.get_slot("contact_kind") in ("email", "phone"):
            return list(domain_slots)
        return [slot for slot in domain_slots if slot != "contact"]

    # -- typed answers to button questions

    def _typed_choice(self, tracker: Tracker, slot: str, choices: Sequence[str]) -> Dict[Text, Any]:
        text = latest_text(tracker)
        if (
            tracker.get_slot("requested_slot") != slot
            or not is_fresh_answer(tracker, self.form_name())
            or is_payload(text)
            or latest_entity(tracker, "option")
            or looks_like_question(tracker)
        ):
            return {}
        found = match_option(text, choices)
        return {slot: found} if found else {}

    async def extract_contact_kind(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Typed "par e-mail", "فالتيليفون"; or an address or number typed straight away."""
        text = latest_text(tracker)
        if (
            tracker.get_slot("requested_slot") == "contact_kind"
            and not is_payload(text)
            and is_fresh_answer(tracker, self.form_name())
            and not latest_entity(tracker, "option")
        ):
            for kind, check in (("email", validate_email), ("phone", validate_phone)):
                try:
                    return {"contact_kind": kind, "contact": check(text)}
                except InvalidInput:
                    continue
        return self._typed_choice(tracker, "contact_kind", CONTACT_CHOICES)

    async def extract_ticket_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A field to correct named in words, else "envoyer", "corriger" or "annuler" in words."""
        if latest_intent(tracker) in ("affirm", "deny"):
            return {}
        return self._typed_choice(tracker, "ticket_confirm", tuple(self.fields)) or (
            self._typed_choice(tracker, "ticket_confirm", ("send", "edit", "cancel"))
        )

    # -- validation

    def _payload_answer(self, slot: str, value: object) -> Optional[Dict[Text, Any]]:
        """A button pressed where text was expected: "no" cancels, others are ignored."""
        if not is_payload(value):
            return None
        text = str(value)
        if payload_intent(text) == "deny" or '"cancel"' in text:
            return {slot: None, "ticket_confirm": "cancel"}
        return {slot: None}

    def _free_text(
        self,
        slot: str,
        value: object,
        dispatcher: CollectingDispatcher,
        check: Any,
    ) -> Dict[Text, Any]:
        answer = self._payload_answer(slot, value)
        if answer is not None:
            if "ticket_confirm" not in answer:
                dispatcher.utter_message(response="utter_invalid_empty")
            return answer
        try:
            return {slot: check(value)}
        except InvalidInput as error:
            explain_invalid(dispatcher, error, value)
            return {slot: None}

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """3 words to 5,000 characters, kept whole; longer is refused with the limit."""
        return self._free_text("description", value, dispatcher, validate_description)

    def validate_contact_kind(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """``chat``, ``email`` or ``phone``."""
        if value in CONTACT_CHOICES:
            slots: Dict[Text, Any] = {"contact_kind": value}
            if value == "chat":
                slots["contact"] = None
            return slots
        dispatcher.utter_message(response="utter_invalid_choice")
        return {"contact_kind": None}

    def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """An e-mail address or an international phone number, as chosen."""
        kind = tracker.get_slot("contact_kind")
        answer = self._payload_answer("contact", value)
        if answer is not None:
            if "ticket_confirm" not in answer:
                dispatcher.utter_message(response="utter_invalid_empty")
            return answer
        check = validate_phone if kind == "phone" else validate_email
        try:
            return {"contact": check(value)}
        except InvalidInput as error:
            explain_invalid(dispatcher, error, value, contact_kind=str(kind))
            return {"contact": None}

    def validate_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Yes or no (no ends the form: nothing is stored)."""
        if value is True or value is False:
            return {"consent": value}
        dispatcher.utter_message(response="utter_invalid_choice")
        return {"consent": None}

    def validate_ticket_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Send, cancel, "correct" (then which field), or the field to correct."""
        if value in ("send", "cancel"):
            return {"ticket_confirm": value}
        if value == "edit":
            return {"ticket_confirm": None}  # action_ask_ticket_confirm asks which field
        if value in self.fields:
            cleared: Dict[Text, Any] = {"ticket_confirm": None}
            if value == "contact":
                cleared.update(contact_kind=None, contact=None)
            else:
                cleared[str(value)] = None
            return cleared
        dispatcher.utter_message(response="utter_invalid_choice")
        return {"ticket_confirm": None}


class ValidateComplaintForm(_TicketFormValidation):
    """Validation of ``complaint_form``."""

    fields = ("category", "service", "description", "contact")

    def name(self) -> Text:
        """Action name in the domain."""
        return "validate_complaint_form"

    async def extract_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A category typed in words ("état civil", "القنصلية", "l3adala")."""
        return self._typed_choice(tracker, "category", CATEGORIES)

    def validate_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """One of the five categories."""
        if value in CATEGORIES:
            return {"category": value}
        dispatcher.utter_message(response="utter_invalid_choice")
        return {"category": None}

    def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The consulate or service concerned: a few words, at most 200 characters."""

        def check(text: object) -> str:
            return validate_text(text, "service", min_words=1, max_length=SERVICE_MAX)

        return self._free_text("service", value, dispatcher, check)


class ValidateSuggestionForm(_TicketFormValidation):
    """Validation of ``suggestion_form``."""

    fields = ("description", "contact")

    def name(self) -> Text:
        """Action name in the domain."""
        return "validate_suggestion_form"


class ActionTicketFormStart(Action):
    """Clear what an earlier form left and say what comes."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_ticket_form_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Intro message, empty form slots."""
        if latest_intent(tracker) == "make_suggestion":
            dispatcher.utter_message(response="utter_suggestion_intro")
        else:
            dispatcher.utter_message(response="utter_complaint_intro")
        return reset_form_slots()


class ActionAskContact(Action):
    """Ask for the e-mail address or the phone number, as chosen."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_ask_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """``utter_ask_contact_phone`` or ``utter_ask_contact_email``."""
        if tracker.get_slot("contact_kind") == "phone":
            dispatcher.utter_message(response="utter_ask_contact_phone")
        else:
            dispatcher.utter_message(response="utter_ask_contact_email")
        return []


def contact_line(tracker: Tracker, lang: str, suggestion: bool) -> str:
    """How the user will be answered, for the summary."""
    kind = tracker.get_slot("contact_kind") or "chat"
    if kind == "chat":
        return label(lang, "contact_kind.none" if suggestion else "contact_kind.chat")
    return f"{label(lang, f'contact_kind.{kind}')} : {preview(tracker.get_slot('contact'))}"


class ActionAskTicketConfirm(Action):
    """The summary before sending (or the list of fields after "correct")."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_ask_ticket_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Show what will be stored, with send / correct / cancel buttons."""
        lang = conversation_language(tracker)
        suggestion = tracker.active_loop_name == "suggestion_form"
        text = latest_text(tracker)
        wants_edit = latest_entity(tracker, "option") == "edit" or (
            not is_payload(text)
            and latest_intent(tracker) not in ("affirm", "deny")
            and match_option(text, ("edit",)) == "edit"
            and tracker.get_slot("requested_slot") == "ticket_confirm"
        )
        if wants_edit:
            dispatcher.utter_message(
                response="utter_ask_which_field_suggestion"
                if suggestion
                else "utter_ask_which_field"
            )
            return []
        description = preview(tracker.get_slot("description"))
        contact = contact_line(tracker, lang, suggestion)
        if suggestion:
            dispatcher.utter_message(
                response="utter_suggestion_summary", description=description, contact=contact
            )
        else:
            dispatcher.utter_message(
                response="utter_complaint_summary",
                category=label(lang, f"category.{tracker.get_slot('category')}"),
                service=preview(tracker.get_slot("service")) or label(lang, "empty"),
                description=description,
                contact=contact,
            )
        return []


class _SubmitTicket(Action, ABC):
    """Store the ticket once the form is done (unless consent was refused or cancelled)."""

    kind = "complaint"

    @abstractmethod
    def name(self) -> Text:
        """Action name in the domain (set by subclasses)."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Create the ticket and give its reference, or say that nothing was stored."""
        events = reset_form_slots()
        if tracker.get_slot("consent") is False:
            dispatcher.utter_message(response="utter_consent_declined")
            return events
        if tracker.get_slot("consent") is not True or tracker.get_slot("ticket_confirm") != "send":
            dispatcher.utter_message(response="utter_ticket_form_cancelled")
            return events
        contact_kind = tracker.get_slot("contact_kind") or "chat"
        try:
            # The database call runs in a worker thread: the action server's event loop keeps
            # serving other conversations meanwhile (measured: `mdm bench tickets`).
            ticket = await asyncio.to_thread(
                ticket_service().create,
                kind=self.kind,
                category=tracker.get_slot("category") or "other",
                description=tracker.get_slot("description"),
                user_key=user_key_of(tracker),
                language=conversation_language(tracker),
                channel=channel_of(tracker),
                consent=True,
                contact_kind=contact_kind,
                contact=tracker.get_slot("contact") if contact_kind != "chat" else None,
                service=tracker.get_slot("service"),
            )
        except InvalidInput as error:  # the form validated everything: should not happen
            logger.error("%s not stored: %s/%s", self.kind, error.field, error.reason)
            dispatcher.utter_message(response="utter_ticket_error")
            return events
        except Exception as error:  # noqa: BLE001 - database down: say so, store nothing
            logger.error("%s not stored: %s", self.kind, type(error).__name__)
            dispatcher.utter_message(response="utter_ticket_error")
            return events
        if self.kind == "complaint":
            dispatcher.utter_message(
                response="utter_complaint_created",
                ticket_ref=ticket.ref,
                deadline=format_date(ticket.due_at),
            )
        else:
            dispatcher.utter_message(response="utter_suggestion_created", ticket_ref=ticket.ref)
        return events + [SlotSet("ticket_ref", ticket.ref)]


class ActionSubmitComplaint(_SubmitTicket):
    """Store a complaint."""

    kind = "complaint"

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_submit_complaint"


class ActionSubmitSuggestion(_SubmitTicket):
    """Store a suggestion."""

    kind = "suggestion"

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_submit_suggestion"


class ActionTicketFormStopped(Action):
    """The user said no in the middle of a form: nothing stored."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_ticket_form_stopped"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Say it and clear the form."""
        dispatcher.utter_message(response="utter_ticket_form_cancelled")
        return reset_form_slots()


# ---------------------------------------------------------------------------- follow-up


def ref_attempt(tracker: Tracker) -> Optional[str]:
    """The reference the latest message gives: entity, else something typed like one."""
    found = latest_entity(tracker, "ticket_ref")
    if found:
        return found
    text = latest_text(tracker)
    if is_payload(text):
        return None
    match = re.search(r"(?<![0-9A-Za-z])mdm[\s\-_.]*[0-9A-Za-z][^\s,;!?]*", text, re.IGNORECASE)
    return match.group(0) if match else None


class ActionTicketStatus(Action):
    """Status of a ticket by reference; details and follow-up buttons for its owner only."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Answer, ask which ticket, or ask to wait after repeated failures."""
        lang = conversation_language(tracker)
        service = ticket_service()
        key = user_key_of(tracker)
        raw = ref_attempt(tracker)
        if raw is None:
            buttons = ticket_buttons(service, key, "ticket_status", open_only=False)
            if buttons:
                dispatcher.utter_message(response="utter_ask_which_ticket", buttons=buttons)
            else:
                dispatcher.utter_message(response="utter_ask_ticket_ref")
            return []
        if wait_if_throttled(dispatcher, service, key):
            return [SlotSet("ticket_ref", None)]
        view = service.status(raw, key)
        if view is None:
            report_failed_lookup(dispatcher, service, key, raw)
            return [SlotSet("ticket_ref", None)]
        updated = format_date(view.updated_at)
        if not view.is_owner:
            dispatcher.utter_message(
                response="utter_ticket_status_public",
                ticket_ref=view.ref,
                status=status_label(lang, view),
                updated=updated,
            )
            return [SlotSet("ticket_ref", view.ref)]
        dispatcher.utter_message(
            response="utter_ticket_status_owner",
            ticket_ref=view.ref,
            kind=label(lang, f"kind.{view.kind}"),
            status=status_label(lang, view),
            updated=updated,
            category=label(lang, f"category.{view.category}"),
            service=preview(view.service) or label(lang, "empty"),
            created=format_date(view.created_at),
            deadline=format_date(view.due_at),
        )
        replies = [e for e in view.history if e.kind == "staff_reply" and e.text]
        if replies:
            dispatcher.utter_message(
                response="utter_ticket_last_reply",
                date=format_date(replies[-1].at),
                reply=preview(replies[-1].text, 1000),
            )
        if view.status not in FINAL_STATUSES:
            dispatcher.utter_message(response="utter_ticket_next_steps")
        return [SlotSet("ticket_ref", view.ref)]


def _owned_open_ticket(
    dispatcher: CollectingDispatcher,
    service: TicketService,
    key: str,
    raw: str,
    lang: str,
) -> Optional[StatusView]:
    """The user's own open ticket ``raw``, or None after saying why not."""
    if wait_if_throttled(dispatcher, service, key):
        return None
    view = service.status(raw, key)
    if view is None:
        report_failed_lookup(dispatcher, service, key, raw)
        return None
    if not view.is_owner:
        dispatcher.utter_message(response="utter_ticket_not_owner", ticket_ref=view.ref)
        return None
    if view.status in FINAL_STATUSES:
        dispatcher.utter_message(
            response="utter_ticket_closed", ticket_ref=view.ref, status=status_label(lang, view)
        )
        return None
    return view


class ValidateTicketInfoForm(FormValidationAction):
    """Validation of ``ticket_info_form`` (adding a message to one's open ticket)."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "validate_ticket_info_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Reject the form for another topic's button pressed instead of typing."""
        requested = tracker.get_slot("requested_slot")
        text = latest_text(tracker)
        if (
            tracker.active_loop_name == self.form_name()
            and requested in FREE_TEXT_SLOTS
            and requested in tracker.slots_to_validate()
            and is_payload(text)
            and payload_intent(text) not in {"choose", "affirm", "deny", "add_ticket_info"}
        ):
            return [SlotSet(requested, None), ActionExecutionRejected(self.form_name())]
        return await super().run(dispatcher, tracker, domain)

    def validate_ticket_ref(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The user's own open ticket; otherwise say why and end the form."""
        stop = {"ticket_ref": None, "ticket_message": None, "requested_slot": None}
        if is_payload(value):
            if payload_intent(str(value)) == "deny":
                dispatcher.utter_message(response="utter_ticket_form_cancelled")
                return stop
            return {"ticket_ref": None}
        view = _owned_open_ticket(
            dispatcher,
            ticket_service(),
            user_key_of(tracker),
            str(value or ""),
            conversation_language(tracker),
        )
        if view is None:
            return stop
        return {"ticket_ref": view.ref}

    def validate_ticket_message(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """One word to 5,000 characters; "no" cancels."""
        if is_payload(value):
            if payload_intent(str(value)) == "deny":
                dispatcher.utter_message(response="utter_ticket_form_cancelled")
                return {"ticket_message": None, "requested_slot": None}
            dispatcher.utter_message(response="utter_invalid_empty")
            return {"ticket_message": None}
        try:
            return {"ticket_message": validate_text(value, "text", min_words=1)}
        except InvalidInput as error:
            explain_invalid(dispatcher, error, value)
            return {"ticket_message": None}


class ActionSubmitTicketInfo(Action):
    """Add the collected message to the ticket."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_submit_ticket_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """``TicketService.add_info``; nothing when the form ended without a message."""
        ref = tracker.get_slot("ticket_ref")
        message = tracker.get_slot("ticket_message")
        if not ref or not message:
            return [SlotSet("ticket_message", None)]
        lang = conversation_language(tracker)
        try:
            view = ticket_service().add_info(ref, user_key_of(tracker), message)
        except NotOwner as error:
            dispatcher.utter_message(response="utter_ticket_not_owner", ticket_ref=error.ref)
        except TicketClosed as error:
            dispatcher.utter_message(
                response="utter_ticket_closed",
                ticket_ref=error.ref,
                status=label(lang, f"status.{error.status}"),
            )
        except TicketNotFound:
            dispatcher.utter_message(response="utter_ticket_ref_malformed")
        except InvalidInput as error:
            explain_invalid(dispatcher, error, message)
        except Exception as error:  # noqa: BLE001 - database down
            logger.error("message not added: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_ticket_error")
        else:
            dispatcher.utter_message(response="utter_ticket_info_added", ticket_ref=view.ref)
        return [SlotSet("ticket_message", None)]


class ActionAskCancelTicket(Action):
    """Check that the ticket can be cancelled by this user, then ask to confirm."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_ask_cancel_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Confirmation question (``pending_cancel`` set), or why it is not possible."""
        service = ticket_service()
        key = user_key_of(tracker)
        raw = ref_attempt(tracker) or tracker.get_slot("ticket_ref")
        if not raw:
            buttons = ticket_buttons(service, key, "cancel_ticket", open_only=True)
            if buttons:
                dispatcher.utter_message(response="utter_ask_which_ticket", buttons=buttons)
            else:
                dispatcher.utter_message(response="utter_ask_ticket_ref")
            return [SlotSet("pending_cancel", None)]
        view = _owned_open_ticket(dispatcher, service, key, raw, conversation_language(tracker))
        if view is None:
            return [SlotSet("pending_cancel", None)]
        dispatcher.utter_message(response="utter_confirm_cancel_ticket", ticket_ref=view.ref)
        return [SlotSet("pending_cancel", view.ref), SlotSet("ticket_ref", view.ref)]


class ActionCancelTicket(Action):
    """Cancel the ticket after "yes", keep it after "no"."""

    def name(self) -> Text:
        """Action name in the domain."""
        return "action_cancel_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """``TicketService.cancel`` on ``pending_cancel``."""
        ref = tracker.get_slot("pending_cancel")
        done: List[EventType] = [SlotSet("pending_cancel", None)]
        if not ref:
            dispatcher.utter_message(response="utter_anything_else")
            return done
        if latest_intent(tracker) != "affirm":
            dispatcher.utter_message(response="utter_ticket_kept")
            return done
        lang = conversation_language(tracker)
        try:
            view = ticket_service().cancel(ref, user_key_of(tracker))
        except TicketClosed as error:
            dispatcher.utter_message(
                response="utter_ticket_closed",
                ticket_ref=error.ref,
                status=label(lang, f"status.{error.status}"),
            )
        except (NotOwner, TicketNotFound):
            dispatcher.utter_message(response="utter_ticket_not_owner", ticket_ref=ref)
        except TicketError as error:
            logger.error("ticket not cancelled: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_ticket_error")
        except Exception as error:  # noqa: BLE001 - database down
            logger.error("ticket not cancelled: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_ticket_error")
        else:
            dispatcher.utter_message(response="utter_ticket_cancelled", ticket_ref=view.ref)
        return done
